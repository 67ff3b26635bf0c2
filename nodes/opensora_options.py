"""Open-Sora Options: the family-specific settings of Image to Video for ST-DiT models."""
from __future__ import annotations

from ._common import CATEGORY, tip

#: Same type name as the Image to Video node's optional ``options`` input.
I2V_OPTIONS = "MOTIONCOMIC_I2V_OPTIONS"
RESOLUTIONS = ["144p", "240p", "360p", "480p", "720p", "1080p"]
CAMERA = ["none", "static", "pan left", "pan right", "tilt up", "tilt down", "zoom in", "zoom out"]


class MotionComicOpenSoraOptions:
    DESCRIPTION = ("Settings only Open-Sora ST-DiT has: the aspect-bucket resolution, which frames the image fixes "
                   "(first, last or both for a loop), and the score suffixes the model was trained with. Connect to "
                   "the 'options' input of Image to Video.")
    CATEGORY = CATEGORY
    FUNCTION = "build"
    RETURN_TYPES = (I2V_OPTIONS,)
    RETURN_NAMES = ("options",)
    OUTPUT_TOOLTIPS = ("Open-Sora settings for Image to Video (ignored by other model families).",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "resolution": (RESOLUTIONS, tip("Bucket resolution; the bucket nearest the image's aspect (17 ratios) "
                                                "is used, the image is letterboxed into it. 480p 4 s needs ~30 GB on a "
                                                "GPU, 720p ~39 GB.", default="480p")),
                "cond_frames": (["first", "last", "loop"], tip("Where the image goes: first frame (animate from it), "
                                                              "last frame (animate towards it), or both (a loop).",
                                                              default="first")),
                "aesthetic_score": ("FLOAT", tip("Appends 'aesthetic score: X.' to the caption (trained 4-7; upstream "
                                                 "uses 6.5). 0 = off.", default=6.5, min=0.0, max=10.0, step=0.1)),
                "motion_score": ("FLOAT", tip("Appends 'motion score: X.' (optical-flow strength, about 1-10; higher = "
                                              "more motion). 0 = off (upstream default).", default=0.0, min=0.0,
                                              max=100.0, step=0.5)),
                "camera_motion": (CAMERA, tip("Appends 'camera motion: X.'; none = no suffix.", default="none")),
                "fps": ("FLOAT", tip("Frame-rate conditioning of the model (trained at 24). The output clip is 24 fps.",
                                     default=24.0, min=1.0, max=120.0, step=1.0)),
                "clean_caption": ("BOOLEAN", tip("Clean the caption as upstream does (lower case, no URLs/HTML/CJK, "
                                                 "tidy punctuation). Write prompts in English.", default=True)),
            }
        }

    def build(self, resolution, cond_frames, aesthetic_score, motion_score, camera_motion, fps, clean_caption):
        return ({
            "resolution": resolution, "cond_frames": cond_frames,
            "aesthetic_score": aesthetic_score or None, "motion_score": motion_score or None,
            "camera_motion": camera_motion, "fps": float(fps), "clean_caption": bool(clean_caption),
        },)


NODE_CLASS_MAPPINGS = {"MotionComicOpenSoraOptions": MotionComicOpenSoraOptions}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicOpenSoraOptions": "Open-Sora Options (motioncomic)"}
