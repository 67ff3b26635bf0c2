"""Load MimicMotion: SVD-xt 1.1 folder + MimicMotion UNet/PoseNet file -> video model for Pose to Video."""
from __future__ import annotations

from ._common import CATEGORY, VIDEO_MODEL, tip

AUTO = "(auto)"


def _choices():
    from .. import host
    from ..loaders.mimicmotion import model_choices
    from ..loaders.svd import svd_folders

    files = model_choices()
    return (files or [host.empty_choice("MimicMotion checkpoint", "mimicmotion")],
            svd_folders() or [host.empty_choice("SVD-xt 1.1 folder", "diffusers")], [AUTO] + files)


class MotionComicLoadMimicMotion:
    DESCRIPTION = ("Loads MimicMotion (pose-guided SVD): the UNet + PoseNet from models/mimicmotion/ (the official "
                   "MimicMotion_1-1.pth, or ComfyUI-MimicMotionWrapper's merged UNet with its "
                   "mimic_motion_pose_net.safetensors) and VAE, image encoder and scheduler from the SVD-xt 1.1 "
                   "diffusers folder in models/diffusers/. Connect to Pose to Video.")
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = (VIDEO_MODEL,)
    RETURN_NAMES = ("model",)
    OUTPUT_TOOLTIPS = ("The loaded MimicMotion model (576-px short side, tiles of 72 frames for 1.1).",)

    @classmethod
    def INPUT_TYPES(cls):
        models, folders, posenets = _choices()
        return {
            "required": {
                "model": (models, tip("MimicMotion weights in models/mimicmotion/: MimicMotion_1-1.pth (tencent/"
                                      "MimicMotion, UNet + PoseNet) or MimicMotionMergedUnet_1-1-fp16.safetensors "
                                      "(Kijai/MimicMotion_pruned, UNet only). The layout is read from the weights.")),
                "svd_folder": (folders, tip("The stable-video-diffusion-img2vid-xt-1-1 diffusers folder in "
                                            "models/diffusers/ (its UNet weights are not needed).")),
                "pose_net": (posenets, tip("(auto): from the model file when it holds one, else the PoseNet file "
                                           "in models/mimicmotion/ (mimic_motion_pose_net.safetensors from "
                                           "ComfyUI-MimicMotionWrapper).", default=AUTO)),
                "version": (["1.1", "1.0"], tip("Which MimicMotion release the weights are: 1.1 uses 72-frame tiles, "
                                                "1.0 16-frame tiles (Pose to Video's tile_frames 0 follows this).",
                                                default="1.1")),
                "dtype": (["auto", "bf16", "fp16", "fp32"], tip("auto = bf16 on GPUs, fp32 on CPU. Upstream runs "
                                                                "fp16.", default="auto")),
                "offload": (["none", "model"], tip("none: all parts stay on the GPU (about 16 GB with 72-frame tiles). "
                                                   "model: each part moves to the GPU only while it runs.",
                                                   default="none")),
            }
        }

    def load(self, model, svd_folder, pose_net, version, dtype, offload):
        from ..loaders.registry import load_video_model

        return (load_video_model(model, family="mimicmotion", svd_folder=svd_folder, pose_net=pose_net,
                                 version=version, dtype=dtype, offload=offload),)


NODE_CLASS_MAPPINGS = {"MotionComicLoadMimicMotion": MotionComicLoadMimicMotion}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicLoadMimicMotion": "Load MimicMotion (motioncomic)"}
