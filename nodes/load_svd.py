"""Load SVD: a Stable Video Diffusion diffusers folder -> video model for the Image to Video node."""
from __future__ import annotations

from ._common import VIDEO_MODEL
from ._schema import Combo, Node, Out


def _folders() -> list[str]:
    from .. import host
    from ..loaders.svd import svd_folders

    return svd_folders() or [host.empty_choice("SVD folder", "diffusers")]


def load(model, dtype, offload):
    from ..loaders.registry import load_video_model

    return (load_video_model(model, family="svd", dtype=dtype, offload=offload, defer=True),)


NODES = [Node(
    "MotionComicLoadSVD", "Load SVD (motioncomic)",
    "Loads Stable Video Diffusion (SVD, SVD-xt, SVD-xt 1.1) from a diffusers folder in models/diffusers/ (e.g. "
    "stable-video-diffusion-img2vid-xt-1-1). Connect to Image to Video: the image is letterboxed like every family; "
    "SVD takes no prompt (25 steps, guidance 1 -> 3, fps 7, motion bucket 127).",
    load,
    inputs=[
        Combo("model", _folders, "An SVD diffusers folder in models/diffusers/ with unet/, vae/, image_encoder/, "
              "feature_extractor/ and scheduler/ (the fp16 variant files are enough)."),
        Combo("dtype", ["auto", "bf16", "fp16", "fp32"], "auto = bf16 on GPUs, fp32 on CPU (SVD ships fp16).",
              default="auto"),
        Combo("offload", ["none", "model"], "none: all parts stay on the GPU. model: each part moves to the GPU only "
              "while it runs.", default="none"),
    ],
    outputs=[Out(VIDEO_MODEL, "model", "The loaded SVD model (576-px short side, 25 frames by default, 7 fps).")],
)]
