"""Image to Video: one character image + prompt -> frames, with black-border framing (any family)."""
from __future__ import annotations

from ._common import I2V_OPTIONS, VIDEO_MODEL
from ._schema import Boolean, Combo, Custom, Float, Image, Int, Node, Out, String
from ._video import video_out
from ..samplers.framing import MAX_RESOLUTION  # light: no torch at import


def generate(model, image, prompt, negative_prompt, frames, steps, cfg, seed, framing, border_color, resolution,
             resize_back, scheduler="auto", dynamic_cfg=False, vae_tiling="auto", options=None):
    from ..samplers.framing import parse_color
    from ..samplers.i2v import image_to_video

    opts = {"scheduler": scheduler, "dynamic_cfg": dynamic_cfg, "vae_tiling": vae_tiling, **(options or {})}
    result = image_to_video(
        model, image, prompt, negative_prompt, num_frames=frames or None, steps=steps or None,
        cfg=cfg or None, seed=seed, framing=framing, fill=parse_color(border_color),
        resolution=resolution or None, resize_back=resize_back, options=opts,
    )
    return (result.frames, result.fps, "\n".join(result.report), video_out(result.frames, result.fps))


NODES = [Node(
    "MotionComicImageToVideo", "Image to Video (motioncomic)",
    "Animates one character image. The image is scaled to fit the model's native frame and padded with borders "
    "(not stretched), generated, and every frame is cropped back to the character.",
    generate,
    inputs=[
        Custom("model", VIDEO_MODEL, "A model from Load CogVideoX, Load ST-DiT or Load Wan."),
        Image("image", "The character image (first frame). Any size >= 16 px; alpha is composited over the border "
              "colour."),
        String("prompt", "What moves, in detailed English (the model was trained on long captions). Longer than the "
               "model's budget (CogVideoX 226/224, Wan 512 tokens) is cut and reported.", multiline=True),
        String("negative_prompt", "What to avoid, e.g. 'blurry, distorted face, jitter'.", multiline=True),
        Int("frames", "Frame count; 0 = model default. CogVideoX 1.0: 8N+1 up to 49; 1.5: 16N+1 up to 81; Wan: 4N+1 "
            "(TI2V-5B 121, A14B 81). Invalid counts are refused with the nearest valid ones.",
            default=0, min=0, max=1024),
        Int("steps", "Denoising steps; 0 = model default (CogVideoX 50, Wan TI2V-5B 50, A14B 40). 25-50 is typical.",
            default=0, min=0, max=500),
        Float("cfg", "Guidance scale; 0 = model default (CogVideoX 6, Wan TI2V-5B 5, A14B 3.5). <= 1 disables "
              "guidance.", default=0.0, min=0.0, max=30.0, step=0.1),
        Int("seed", "Random seed; same seed + settings = same video.", default=0, min=0, max=0xFFFFFFFFFFFFFFFF),
        Combo("framing", ["pad", "crop", "stretch"], "pad: fit inside the frame with borders, crop them off "
              "afterwards (keeps proportions). crop: fill the frame and cut the overflow. stretch: distort to the "
              "frame.", default="pad"),
        String("border_color", "Border colour for pad (and behind transparency): '#000000' or '0,0,0'.",
               default="#000000"),
        Int("resolution", "CogVideoX 1.5: short side of the frame (multiple of 16), 0 = 768. Wan: 480 or 720 picks "
            "that pixel area (0 = TI2V-5B 720p, A14B 480p) and the frame of it nearest the image's aspect. Ignored by "
            "CogVideoX 1.0 (720x480).", default=0, min=0, max=MAX_RESOLUTION, step=16),
        Boolean("resize_back", "Resize the cropped frames back to the input image's size.", default=False),
        Combo("scheduler", ["auto", "DDIM", "DPM"], "CogVideoX sampler: auto = the model folder's scheduler (DDIM "
              "for single files). DPM pairs well with dynamic cfg.", default="auto", optional=True),
        Boolean("dynamic_cfg", "CogVideoX: raise guidance over the steps (official demo with DPM; keep off with "
                "DDIM).", default=False, optional=True),
        Combo("vae_tiling", ["auto", "on", "off"], "Decode in tiles: auto = for frames above 720x480 and as the "
              "retry after out-of-memory.", default="auto", optional=True),
        Custom("options", I2V_OPTIONS, "Family-specific settings from an options node; they override the inputs "
               "above.", optional=True),
    ],
    outputs=[
        Out("IMAGE", "frames", "The generated frames, cropped to the character."),
        Out("FLOAT", "fps", "The model's frame rate."),
        Out("STRING", "report", "What was done: framing, token counts (truncation), sampler settings."),
        Out("VIDEO", "video", "The frames as a core VIDEO at the model's frame rate (for core Save Video / Create "
            "Video, or the video input of our stages)."),
    ],
)]
