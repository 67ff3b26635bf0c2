"""Letterbox Image / Crop to Character: our framing around any model's image-to-video nodes."""
from __future__ import annotations

from ._common import FRAME_PLAN
from ._schema import Boolean, Combo, Custom, Image, Int, Node, Out, String

DEFAULT_PRESET = "Wan 2.2 TI2V 5B (1280x704, x32)"


def _preset_names() -> list[str]:
    from ..samplers.letterbox import PRESET_NAMES

    return list(PRESET_NAMES)


def letterbox(image, preset, width, height, framing, border_color):
    from ..samplers.framing import parse_color
    from ..samplers.letterbox import letterbox_images
    from ..samplers.letterbox import preset as get_preset

    framed, plan = letterbox_images(image, get_preset(preset), width, height, framing, parse_color(border_color))
    return (framed, plan.frame[1], plan.frame[0], plan)


def crop(images, plan, resize_back, even_size):
    from ..samplers.letterbox import crop_clip

    return (crop_clip(images, plan, resize_back, even_size),)


NODES = [
    Node(
        "MotionComicLetterboxImage", "Letterbox Image (motioncomic)",
        "Fits the character into a legal frame of the chosen video model without stretching or cutting: scaled to "
        "fit, padded with the border colour. Wire width/height into the model's image-to-video node (e.g. "
        "Wan22ImageToVideoLatent) and the plan into Crop to Character after the decode.",
        letterbox,
        inputs=[
            Image("image", "The character image (a batch is framed alike). Alpha is composited over the border "
                  "colour."),
            Combo("preset", _preset_names, "The video model: its legal size multiples and native area. The frame "
                  "nearest the image's aspect is chosen. custom = width/height below (multiples of 16).",
                  default=DEFAULT_PRESET),
            Int("width", "0 = from the preset. Otherwise the exact frame width (a multiple the model needs; refused "
                "with the nearest valid values).", default=0, min=0, max=16384, step=16),
            Int("height", "0 = from the preset. Otherwise the exact frame height.", default=0, min=0, max=16384,
                step=16),
            Combo("framing", ["pad", "crop", "stretch"], "pad: fit inside with borders (keeps everything). crop: "
                  "fill the frame, cut the overflow. stretch: distort (what the core nodes do), to compare.",
                  default="pad"),
            String("border_color", "Border colour: '#000000' or '0,0,0'.", default="#000000"),
        ],
        outputs=[
            Out("IMAGE", "image", "The padded image at the model frame (the start image for the model)."),
            Out("INT", "width", "Frame width: wire into the image-to-video node's width."),
            Out("INT", "height", "Frame height: wire into the image-to-video node's height."),
            Out(FRAME_PLAN, "plan", "Where the character sits in the frame: for Crop to Character."),
        ],
    ),
    Node(
        "MotionComicCropToCharacter", "Crop to Character (motioncomic)",
        "Crops every frame of a clip generated at the Letterbox Image node's frame back to the character, "
        "optionally resized back to the input image's size.",
        crop,
        inputs=[
            Image("images", "The decoded frames, at the plan's frame size."),
            Custom("plan", FRAME_PLAN, "The plan output of Letterbox Image."),
            Boolean("resize_back", "Resize the cropped frames to the input image's size.", default=False),
            Boolean("even_size", "Make width and height even (drops at most one pixel row/column): H.264 mp4, e.g. "
                    "core Save Video, needs even sizes.", default=True),
        ],
        outputs=[Out("IMAGE", "images", "The frames, character only (same aspect as the input image).")],
    ),
]
