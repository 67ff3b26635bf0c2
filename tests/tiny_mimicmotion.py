"""Tiny random-weight SVD / MimicMotion parts written in the real on-disk layouts (tests,
benchmarks, the real-ComfyUI suite).

- ``write_svd_folder``: a diffusers ``stable-video-diffusion-img2vid-xt-1-1`` folder
  (``model_index.json``, ``unet/``, ``vae/``, ``image_encoder/``, ``feature_extractor/``,
  ``scheduler/`` with SVD-xt 1.1's real scheduler and preprocessor configs). ``variant="fp16"``
  writes ``*.fp16.safetensors`` as the hub's fp16 variant; ``with_unet=False`` leaves out the UNet
  weights, as ComfyUI-MimicMotionWrapper's download does.
- ``write_mimicmotion_pth``: the official ``MimicMotion_1-1.pth`` layout (``torch.save`` of
  ``unet.*`` + ``pose_net.*``).
- ``write_merged_unet`` + ``write_posenet_file``: the wrapper's ``MimicMotionMergedUnet_1-1-fp16
  .safetensors`` (UNet keys, no prefix, no PoseNet) and its ``mimic_motion_pose_net.safetensors``.

Shapes: UNet widths (32, 64) (diffusers' own SVD test config), VAE four levels of 32 (factor 8,
as PoseNet's three halvings need), CLIP ViT with 224 px / patch 14 (the pipeline resizes to 224)
and width 32. A 64x64 frame is a 8x8 latent. PoseNet keeps its real widths; ``final_proj`` is
randomised (it is zero at init, which would make the pose do nothing).
"""
from __future__ import annotations

import contextlib
import json
from pathlib import Path

import torch

#: Folder and file names the shipped workflows and docs use.
SVD_FOLDER = "stable-video-diffusion-img2vid-xt-1-1"
WORKFLOW_MODEL = "MimicMotion_1-1.pth"
MERGED_UNET = "MimicMotionMergedUnet_1-1-fp16.safetensors"
POSENET_FILE = "mimic_motion_pose_net.safetensors"

#: SVD-xt 1.1's scheduler/scheduler_config.json
SCHEDULER_CONFIG = {
    "_class_name": "EulerDiscreteScheduler", "_diffusers_version": "0.24.0.dev0", "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False,
    "interpolation_type": "linear", "num_train_timesteps": 1000, "prediction_type": "v_prediction",
    "set_alpha_to_one": False, "sigma_max": 700.0, "sigma_min": 0.002, "skip_prk_steps": True,
    "steps_offset": 1, "timestep_spacing": "leading", "timestep_type": "continuous", "trained_betas": None,
    "use_karras_sigmas": True,
}
#: SVD-xt 1.1's feature_extractor/preprocessor_config.json
PREPROCESSOR_CONFIG = {
    "crop_size": {"height": 224, "width": 224}, "do_center_crop": True, "do_convert_rgb": True,
    "do_normalize": True, "do_rescale": True, "do_resize": True, "feature_extractor_type": "CLIPFeatureExtractor",
    "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "CLIPImageProcessor",
    "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 224},
}
MODEL_INDEX = {
    "_class_name": "StableVideoDiffusionPipeline", "_diffusers_version": "0.24.0.dev0",
    "feature_extractor": ["transformers", "CLIPImageProcessor"],
    "image_encoder": ["transformers", "CLIPVisionModelWithProjection"],
    "scheduler": ["diffusers", "EulerDiscreteScheduler"],
    "unet": ["diffusers", "UNetSpatioTemporalConditionModel"],
    "vae": ["diffusers", "AutoencoderKLTemporalDecoder"],
}


# --------------------------------------------------------------------------- components
def build_unet(seed: int = 0, num_frames: int = 25):
    from diffusers import UNetSpatioTemporalConditionModel

    torch.manual_seed(seed)
    return UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=8, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32, num_attention_heads=(2, 4), projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32, num_frames=num_frames,
    ).eval()


def build_vae(seed: int = 1):
    from diffusers import AutoencoderKLTemporalDecoder

    torch.manual_seed(seed)
    return AutoencoderKLTemporalDecoder(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
        block_out_channels=(32, 32, 32, 32), layers_per_block=1, latent_channels=4, sample_size=64,
    ).eval()


def build_image_encoder(seed: int = 2):
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    cfg = CLIPVisionConfig(hidden_size=32, projection_dim=32, num_hidden_layers=2, num_attention_heads=4,
                           image_size=224, intermediate_size=37, patch_size=14)
    return CLIPVisionModelWithProjection(cfg).eval()


def build_posenet(seed: int = 3, out_channels: int = 32):
    from motioncomic.loaders.posenet import PoseNet

    torch.manual_seed(seed)
    net = PoseNet(out_channels)
    torch.nn.init.normal_(net.final_proj.weight, std=0.05)
    torch.nn.init.normal_(net.final_proj.bias, std=0.05)
    return net.eval()


# --------------------------------------------------------------------------- writers
def _save(sd: dict, path: Path, dtype=None) -> Path:
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.to(dtype or v.dtype).contiguous() for k, v in sd.items()}, str(path), metadata={"format": "pt"})
    return path


def write_svd_folder(folder: Path, *, variant: str | None = None, with_unet: bool = True,
                     with_image_encoder: bool = True, seed: int = 0) -> Path:
    """A diffusers SVD-xt 1.1 folder as on the hub (``variant="fp16"``: fp16 weight files)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if variant == "fp16" else None
    parts = {"unet": build_unet(seed), "vae": build_vae(seed + 1)}
    if with_image_encoder:
        parts["image_encoder"] = build_image_encoder(seed + 2)
    for name, module in parts.items():
        module.save_pretrained(folder / name, variant=variant)
        if dtype is not None:  # save_pretrained keeps fp32; the hub's fp16 files hold fp16 tensors
            weights = next((folder / name).glob("*.safetensors"))
            from safetensors.torch import load_file

            _save(load_file(str(weights)), weights, dtype)
    if not with_unet:
        for f in (folder / "unet").glob("*.safetensors"):
            f.unlink()
    (folder / "scheduler").mkdir(exist_ok=True)
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps(SCHEDULER_CONFIG, indent=2))
    (folder / "feature_extractor").mkdir(exist_ok=True)
    (folder / "feature_extractor" / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR_CONFIG, indent=2))
    (folder / "model_index.json").write_text(json.dumps(MODEL_INDEX, indent=2))
    return folder


def mimicmotion_state_dict(seed: int = 10) -> dict:
    """The official checkpoint's tensors: ``unet.*`` (fine-tuned SVD UNet) + ``pose_net.*``."""
    sd = {f"unet.{k}": v for k, v in build_unet(seed).state_dict().items()}
    sd.update({f"pose_net.{k}": v for k, v in build_posenet(seed + 1).state_dict().items()})
    return sd


def write_mimicmotion_pth(path: Path, seed: int = 10, dtype=None, with_posenet: bool = True) -> Path:
    """``MimicMotion_1-1.pth`` layout: a plain ``torch.save`` dict (loadable with weights_only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sd = {k: v.to(dtype or v.dtype) for k, v in mimicmotion_state_dict(seed).items()
          if with_posenet or not k.startswith("pose_net.")}
    torch.save(sd, path)
    return path


def write_merged_unet(path: Path, seed: int = 10) -> Path:
    """ComfyUI-MimicMotionWrapper's merged UNet file: diffusers UNet keys, no prefix, fp16."""
    sd = mimicmotion_state_dict(seed)
    return _save({k[5:]: v for k, v in sd.items() if k.startswith("unet.")}, path, torch.float16)


def write_posenet_file(path: Path, seed: int = 10) -> Path:
    """The wrapper's ``mimic_motion_pose_net.safetensors``: PoseNet keys without prefix, fp16."""
    sd = mimicmotion_state_dict(seed)
    return _save({k[9:]: v for k, v in sd.items() if k.startswith("pose_net.")}, path, torch.float16)


def install_for_workflows(models_dir: Path) -> None:
    """The SVD folder under ``models/diffusers/`` and the official MimicMotion checkpoint under
    ``models/mimicmotion/`` with the names the shipped workflows use."""
    models_dir = Path(models_dir)
    svd = models_dir / "diffusers" / SVD_FOLDER
    if not (svd / "model_index.json").exists():
        write_svd_folder(svd)
    mm = models_dir / "mimicmotion" / WORKFLOW_MODEL
    if not mm.exists():
        write_mimicmotion_pth(mm)


@contextlib.contextmanager
def installed_models(root: Path):
    """``root/models`` with :func:`install_for_workflows`, the pack pointed at it and torch on one
    thread (the tiny models are faster so on a shared machine) for the ``with`` block."""
    from motioncomic import host

    models = Path(root) / "models"
    install_for_workflows(models)
    old, threads = host.configured_models_dir(), torch.get_num_threads()
    host.set_models_dir(models)
    torch.set_num_threads(1)
    try:
        yield models
    finally:
        host.set_models_dir(old)
        torch.set_num_threads(threads)


# --------------------------------------------------------------------------- pose images
def pose_images(n: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    """``[n,H,W,3]`` float 0..1: a coloured stick figure on black that moves from frame to frame."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    base = rng.uniform(0.2, 0.8, size=(8, 2)) * (width, height)
    limbs = [(0, 1), (1, 2), (2, 3), (1, 4), (4, 5), (1, 6), (6, 7)]
    colours = [(255, 0, 0), (255, 170, 0), (170, 255, 0), (0, 255, 85), (0, 170, 255), (85, 0, 255), (255, 0, 170)]
    out = np.zeros((n, height, width, 3), np.uint8)
    for i in range(n):
        pts = base + 0.1 * min(width, height) * np.stack([np.sin(i / 3 + np.arange(8)), np.cos(i / 4 + np.arange(8))], 1)
        for (a, b), c in zip(limbs, colours):
            cv2.line(out[i], tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b]), c, max(1, width // 32))
        for p in pts:
            cv2.circle(out[i], tuple(int(v) for v in p), max(1, width // 40), (255, 255, 255), -1)
    return torch.from_numpy(out).float() / 255.0
