"""Load MimicMotion: SVD-xt 1.1 folder + MimicMotion UNet/PoseNet file -> video model for Pose to Video."""
from __future__ import annotations

from ._common import VIDEO_MODEL
from ._schema import Combo, Node, Out

AUTO = "(auto)"


def _models() -> list[str]:
    from .. import host
    from ..loaders.mimicmotion import model_choices

    return model_choices() or [host.empty_choice("MimicMotion checkpoint", "mimicmotion")]


def _svd_folders() -> list[str]:
    from .. import host
    from ..loaders.svd import svd_folders

    return svd_folders() or [host.empty_choice("SVD-xt 1.1 folder", "diffusers")]


def _pose_nets() -> list[str]:
    from ..loaders.mimicmotion import model_choices

    return [AUTO] + model_choices()


def load(model, svd_folder, pose_net, version, dtype, offload):
    from ..loaders.registry import load_video_model

    return (load_video_model(model, family="mimicmotion", svd_folder=svd_folder, pose_net=pose_net,
                             version=version, dtype=dtype, offload=offload, defer=True),)


NODES = [Node(
    "MotionComicLoadMimicMotion", "Load MimicMotion (motioncomic)",
    "Loads MimicMotion (pose-guided SVD): the UNet + PoseNet from models/mimicmotion/ (the official "
    "MimicMotion_1-1.pth, or ComfyUI-MimicMotionWrapper's merged UNet with its mimic_motion_pose_net.safetensors) "
    "and VAE, image encoder and scheduler from the SVD-xt 1.1 diffusers folder in models/diffusers/. Connect to Pose "
    "to Video.",
    load,
    inputs=[
        Combo("model", _models, "MimicMotion weights in models/mimicmotion/: MimicMotion_1-1.pth (tencent/"
              "MimicMotion, UNet + PoseNet) or MimicMotionMergedUnet_1-1-fp16.safetensors (Kijai/MimicMotion_pruned, "
              "UNet only). The layout is read from the weights."),
        Combo("svd_folder", _svd_folders, "The stable-video-diffusion-img2vid-xt-1-1 diffusers folder in "
              "models/diffusers/ (its UNet weights are not needed)."),
        Combo("pose_net", _pose_nets, "(auto): from the model file when it holds one, else the PoseNet file in "
              "models/mimicmotion/ (mimic_motion_pose_net.safetensors from ComfyUI-MimicMotionWrapper).",
              default=AUTO),
        Combo("version", ["1.1", "1.0"], "Which MimicMotion release the weights are: 1.1 uses 72-frame tiles, 1.0 "
              "16-frame tiles (Pose to Video's tile_frames 0 follows this).", default="1.1"),
        Combo("dtype", ["auto", "bf16", "fp16", "fp32"], "auto = bf16 on GPUs, fp32 on CPU. Upstream runs fp16.",
              default="auto"),
        Combo("offload", ["none", "model"], "none: all parts stay on the GPU (about 16 GB with 72-frame tiles). "
              "model: each part moves to the GPU only while it runs.", default="none"),
    ],
    outputs=[Out(VIDEO_MODEL, "model", "The loaded MimicMotion model (576-px short side, tiles of 72 frames for "
                 "1.1).")],
)]
