"""Load SVD: a Stable Video Diffusion diffusers folder -> video model for the Image to Video node."""
from __future__ import annotations

from ._common import CATEGORY, VIDEO_MODEL, tip


class MotionComicLoadSVD:
    DESCRIPTION = ("Loads Stable Video Diffusion (SVD, SVD-xt, SVD-xt 1.1) from a diffusers folder in models/diffusers/ "
                   "(e.g. stable-video-diffusion-img2vid-xt-1-1). Connect to Image to Video: the image is letterboxed "
                   "like every family; SVD takes no prompt (25 steps, guidance 1 -> 3, fps 7, motion bucket 127).")
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = (VIDEO_MODEL,)
    RETURN_NAMES = ("model",)
    OUTPUT_TOOLTIPS = ("The loaded SVD model (576-px short side, 25 frames by default, 7 fps).",)

    @classmethod
    def INPUT_TYPES(cls):
        from .. import host
        from ..loaders.svd import svd_folders

        folders = svd_folders() or [host.empty_choice("SVD folder", "diffusers")]
        return {
            "required": {
                "model": (folders, tip("An SVD diffusers folder in models/diffusers/ with unet/, vae/, image_encoder/, "
                                       "feature_extractor/ and scheduler/ (the fp16 variant files are enough).")),
                "dtype": (["auto", "bf16", "fp16", "fp32"], tip("auto = bf16 on GPUs, fp32 on CPU (SVD ships fp16).",
                                                                default="auto")),
                "offload": (["none", "model"], tip("none: all parts stay on the GPU. model: each part moves to the "
                                                   "GPU only while it runs.", default="none")),
            }
        }

    def load(self, model, dtype, offload):
        from ..loaders.registry import load_video_model

        return (load_video_model(model, family="svd", dtype=dtype, offload=offload),)


NODE_CLASS_MAPPINGS = {"MotionComicLoadSVD": MotionComicLoadSVD}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicLoadSVD": "Load SVD (motioncomic)"}
