"""Wan Options: the family-specific settings of Image to Video for Wan 2.2 models."""
from __future__ import annotations

from ._common import CATEGORY, tip

#: Same type name as the Image to Video node's optional ``options`` input.
I2V_OPTIONS = "MOTIONCOMIC_I2V_OPTIONS"


class MotionComicWanOptions:
    DESCRIPTION = ("Settings only Wan has: the pixel area (480p / 720p), the sampler and its flow shift, and for "
                   "I2V-A14B the low-noise expert's guidance and where the experts switch. Connect to the "
                   "'options' input of Image to Video.")
    CATEGORY = CATEGORY
    FUNCTION = "build"
    RETURN_TYPES = (I2V_OPTIONS,)
    RETURN_NAMES = ("options",)
    OUTPUT_TOOLTIPS = ("Wan settings for Image to Video (ignored by other model families).",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "resolution": (["default", "480p", "720p"], tip(
                    "Pixel area: 720p = 704x1280 (TI2V-5B, its default) or 720x1280 (A14B); 480p = 480x832 (A14B "
                    "default). The frame of that area nearest the image's aspect is used.", default="default")),
                "scheduler": (["UniPC", "Euler"], tip("UniPC is what Wan's diffusers pipelines use; Euler is the "
                                                      "plain flow-matching step.", default="UniPC")),
                "flow_shift": ("FLOAT", tip("Timestep shift of the flow schedule; 0 = the model's (5.0). Lower "
                                            "(3.0) suits 480p.", default=0.0, min=0.0, max=20.0, step=0.5)),
                "cfg_2": ("FLOAT", tip("A14B: guidance of the low-noise expert; 0 = the same as cfg (official: 3.5 "
                                       "for both).", default=0.0, min=0.0, max=30.0, step=0.1)),
                "boundary_ratio": ("FLOAT", tip("A14B: the high-noise expert runs while t >= ratio x 1000; 0 = the "
                                                "model's (0.9).", default=0.0, min=0.0, max=1.0, step=0.025)),
            }
        }

    def build(self, resolution, scheduler, flow_shift, cfg_2, boundary_ratio):
        return ({
            "resolution": None if resolution == "default" else resolution, "scheduler": scheduler,
            "flow_shift": flow_shift or None, "cfg_2": cfg_2 or None, "boundary_ratio": boundary_ratio or None,
        },)


NODE_CLASS_MAPPINGS = {"MotionComicWanOptions": MotionComicWanOptions}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicWanOptions": "Wan Options (motioncomic)"}
