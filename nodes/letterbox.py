"""Letterbox Image / Crop to Character: our framing around any model's image-to-video nodes."""
from __future__ import annotations

from ._common import CATEGORY, FRAME_PLAN, tip

DEFAULT_PRESET = "Wan 2.2 TI2V 5B (1280x704, x32)"


def _preset_names() -> list[str]:
    from ..samplers.letterbox import PRESET_NAMES

    return list(PRESET_NAMES)


class MotionComicLetterboxImage:
    DESCRIPTION = ("Fits the character into a legal frame of the chosen video model without stretching or cutting: "
                   "scaled to fit, padded with the border colour. Wire width/height into the model's image-to-video "
                   "node (e.g. Wan22ImageToVideoLatent) and the plan into Crop to Character after the decode.")
    CATEGORY = CATEGORY
    FUNCTION = "letterbox"
    RETURN_TYPES = ("IMAGE", "INT", "INT", FRAME_PLAN)
    RETURN_NAMES = ("image", "width", "height", "plan")
    OUTPUT_TOOLTIPS = ("The padded image at the model frame (the start image for the model).",
                       "Frame width: wire into the image-to-video node's width.",
                       "Frame height: wire into the image-to-video node's height.",
                       "Where the character sits in the frame: for Crop to Character.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE", tip("The character image (a batch is framed alike). Alpha is composited over "
                                       "the border colour.")),
                "preset": (_preset_names(), tip("The video model: its legal size multiples and native area. The "
                                                "frame nearest the image's aspect is chosen. custom = width/height "
                                                "below (multiples of 16).", default=DEFAULT_PRESET)),
                "width": ("INT", tip("0 = from the preset. Otherwise the exact frame width (a multiple the model "
                                     "needs; refused with the nearest valid values).", default=0, min=0,
                                     max=16384, step=16)),
                "height": ("INT", tip("0 = from the preset. Otherwise the exact frame height.", default=0, min=0,
                                      max=16384, step=16)),
                "framing": (["pad", "crop", "stretch"], tip("pad: fit inside with borders (keeps everything). crop: "
                                                            "fill the frame, cut the overflow. stretch: distort "
                                                            "(what the core nodes do), to compare.",
                                                            default="pad")),
                "border_color": ("STRING", tip("Border colour: '#000000' or '0,0,0'.", default="#000000")),
            },
        }

    def letterbox(self, image, preset, width, height, framing, border_color):
        from ..samplers.framing import parse_color
        from ..samplers.letterbox import letterbox_images
        from ..samplers.letterbox import preset as get_preset

        framed, plan = letterbox_images(image, get_preset(preset), width, height, framing,
                                        parse_color(border_color))
        return (framed, plan.frame[1], plan.frame[0], plan)


class MotionComicCropToCharacter:
    DESCRIPTION = ("Crops every frame of a clip generated at the Letterbox Image node's frame back to the "
                   "character, optionally resized back to the input image's size.")
    CATEGORY = CATEGORY
    FUNCTION = "crop"
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("images",)
    OUTPUT_TOOLTIPS = ("The frames, character only (same aspect as the input image).",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", tip("The decoded frames, at the plan's frame size.")),
                "plan": (FRAME_PLAN, tip("The plan output of Letterbox Image.")),
                "resize_back": ("BOOLEAN", tip("Resize the cropped frames to the input image's size.",
                                               default=False)),
                "even_size": ("BOOLEAN", tip("Make width and height even (drops at most one pixel row/column): "
                                             "H.264 mp4, e.g. core Save Video, needs even sizes.", default=True)),
            },
        }

    def crop(self, images, plan, resize_back, even_size=True):
        from ..samplers.letterbox import crop_clip

        return (crop_clip(images, plan, resize_back, even_size),)


NODE_CLASS_MAPPINGS = {"MotionComicLetterboxImage": MotionComicLetterboxImage,
                       "MotionComicCropToCharacter": MotionComicCropToCharacter}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicLetterboxImage": "Letterbox Image (motioncomic)",
                              "MotionComicCropToCharacter": "Crop to Character (motioncomic)"}
