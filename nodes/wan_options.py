"""Wan Options: the family-specific settings of Image to Video for Wan 2.2 models."""
from __future__ import annotations

from ._common import I2V_OPTIONS
from ._schema import Combo, Float, Node, Out


def build(resolution, scheduler, flow_shift, cfg_2, boundary_ratio):
    return ({
        "resolution": None if resolution == "default" else resolution, "scheduler": scheduler,
        "flow_shift": flow_shift or None, "cfg_2": cfg_2 or None, "boundary_ratio": boundary_ratio or None,
    },)


NODES = [Node(
    "MotionComicWanOptions", "Wan Options (motioncomic)",
    "Settings only Wan has: the pixel area (480p / 720p), the sampler and its flow shift, and for I2V-A14B the "
    "low-noise expert's guidance and where the experts switch. Connect to the 'options' input of Image to Video.",
    build,
    inputs=[
        Combo("resolution", ["default", "480p", "720p"], "Pixel area: 720p = 704x1280 (TI2V-5B, its default) or "
              "720x1280 (A14B); 480p = 480x832 (A14B default). The frame of that area nearest the image's aspect is "
              "used.", default="default"),
        Combo("scheduler", ["UniPC", "Euler"], "UniPC is what Wan's diffusers pipelines use; Euler is the plain "
              "flow-matching step.", default="UniPC"),
        Float("flow_shift", "Timestep shift of the flow schedule; 0 = the model's (5.0). Lower (3.0) suits 480p.",
              default=0.0, min=0.0, max=20.0, step=0.5),
        Float("cfg_2", "A14B: guidance of the low-noise expert; 0 = the same as cfg (official: 3.5 for both).",
              default=0.0, min=0.0, max=30.0, step=0.1),
        Float("boundary_ratio", "A14B: the high-noise expert runs while t >= ratio x 1000; 0 = the model's (0.9).",
              default=0.0, min=0.0, max=1.0, step=0.025),
    ],
    outputs=[Out(I2V_OPTIONS, "options", "Wan settings for Image to Video (ignored by other model families).")],
)]
