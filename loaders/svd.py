"""Load Stable Video Diffusion (SVD / SVD-xt / SVD-xt 1.1) diffusers folders.

Where users keep them: ``models/diffusers/<name>/``, e.g. ``models/diffusers/
stable-video-diffusion-img2vid-xt-1-1/`` (the folder name ComfyUI-MimicMotionWrapper uses), as
downloaded from ``stabilityai/stable-video-diffusion-img2vid-xt-1-1``::

    model_index.json                      (_class_name StableVideoDiffusionPipeline)
    unet/config.json + diffusion_pytorch_model[.fp16].safetensors
    vae/config.json + diffusion_pytorch_model[.fp16].safetensors
    image_encoder/config.json + model[.fp16].safetensors      (CLIP ViT-H/14 vision + projection)
    feature_extractor/preprocessor_config.json
    scheduler/scheduler_config.json                            (EulerDiscreteScheduler, v-prediction)

Either the full-precision or the ``fp16`` variant files are accepted (whichever is there). The
parts are loaded with diffusers' / transformers' own ``from_pretrained`` (memory-mapped
safetensors). :func:`load_svd_parts` is shared with the MimicMotion loader, which takes its UNet
from the MimicMotion checkpoint and may find the folder without UNet weights.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from .. import host
from ..errors import CheckpointError, MotionComicError, ModelNotFoundError

log = logging.getLogger(__name__)

HF_REPO = "stabilityai/stable-video-diffusion-img2vid-xt-1-1"
DEFAULT_FOLDER = "stable-video-diffusion-img2vid-xt-1-1"
PIPELINE_CLASS = "StableVideoDiffusionPipeline"
OFFLOAD_MODES = ("none", "model")
_DIFFUSERS_WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors",
                      "diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin")
_TRANSFORMERS_WEIGHTS = ("model.safetensors", "model.fp16.safetensors", "pytorch_model.bin", "pytorch_model.fp16.bin")
#: part -> (config file, weight files (any one suffices; empty = config only))
PARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "unet": ("unet/config.json", tuple("unet/" + w for w in _DIFFUSERS_WEIGHTS)),
    "vae": ("vae/config.json", tuple("vae/" + w for w in _DIFFUSERS_WEIGHTS)),
    "image_encoder": ("image_encoder/config.json", tuple("image_encoder/" + w for w in _TRANSFORMERS_WEIGHTS)),
    "feature_extractor": ("feature_extractor/preprocessor_config.json", ()),
    "scheduler": ("scheduler/scheduler_config.json", ()),
}


def svd_folders() -> list[str]:
    """Names of the SVD diffusers folders under models/diffusers/ (for choice lists)."""
    out = []
    for name in host.list_dirs("diffusers", "model_index.json"):
        try:
            cls = json.loads(host.find_model("diffusers", f"{name}/model_index.json").read_text()).get("_class_name", "")
        except (OSError, ValueError):
            continue
        if cls == PIPELINE_CLASS:
            out.append(name)
    return out


def resolve_folder(name: str | os.PathLike) -> Path:
    """The SVD folder ``name`` inside models/diffusers/ (``host.find_model``: a ``Path`` is taken as given)."""
    return host.find_model("diffusers", name or DEFAULT_FOLDER,
                           f"Download {HF_REPO} into models/diffusers/{DEFAULT_FOLDER}/ (huggingface-cli download "
                           f"{HF_REPO} --local-dir models/diffusers/{DEFAULT_FOLDER}).", what="SVD folder")


def missing_parts(folder: Path, parts, need_weights: tuple[str, ...] = ()) -> list[str]:
    """What the folder lacks: ``'<part>/ (config.json)'`` or ``'<part> weights (file or file)'``."""
    missing = []
    for part in parts:
        config, weights = PARTS[part]
        if not (folder / config).exists():
            missing.append(f"{config}")
        elif weights and part in need_weights and not any((folder / w).exists() for w in weights):
            missing.append(f"{part} weights ({weights[0]} or {weights[1]})")
    return missing


def check_folder(folder: Path, parts, need_weights: tuple[str, ...]) -> None:
    """Raise a :class:`ModelNotFoundError` naming every missing file and where to get it."""
    if not folder.is_dir():
        raise ModelNotFoundError(f"{folder} is not a folder; an SVD model is a diffusers folder from {HF_REPO}.")
    missing = missing_parts(folder, parts, need_weights)
    if missing:
        raise ModelNotFoundError(
            f"The SVD folder {folder} is incomplete; missing: {'; '.join(missing)}. Download the missing "
            f"sub-folders from https://huggingface.co/{HF_REPO} into the same folder (the fp16 variant files "
            "*.fp16.safetensors are enough)."
        )


def _variant(folder: Path, part: str) -> str | None:
    weights = PARTS[part][1]
    plain = [w for w in weights if ".fp16." not in w]
    if any((folder / w).exists() for w in plain):
        return None
    if any((folder / w).exists() for w in weights):
        return "fp16"
    return None


def load_svd_parts(folder: Path, parts, dtype, device="cpu") -> dict[str, Any]:
    """Load ``parts`` (keys of :data:`PARTS`) of an SVD folder; the scheduler as its config dict."""
    out: dict[str, Any] = {}
    for part in parts:
        sub = folder / part
        try:
            if part == "unet":
                from diffusers import UNetSpatioTemporalConditionModel

                out[part] = UNetSpatioTemporalConditionModel.from_pretrained(
                    str(sub), variant=_variant(folder, part), torch_dtype=dtype).to(device).eval()
            elif part == "vae":
                from diffusers import AutoencoderKLTemporalDecoder

                out[part] = AutoencoderKLTemporalDecoder.from_pretrained(
                    str(sub), variant=_variant(folder, part), torch_dtype=dtype).to(device).eval()
            elif part == "image_encoder":
                from transformers import CLIPVisionModelWithProjection

                out[part] = CLIPVisionModelWithProjection.from_pretrained(
                    str(sub), variant=_variant(folder, part), dtype=dtype).to(device).eval()
            elif part == "feature_extractor":
                from transformers import CLIPImageProcessor

                out[part] = CLIPImageProcessor.from_pretrained(str(sub))
            elif part == "scheduler":
                out["scheduler_config"] = json.loads((sub / "scheduler_config.json").read_text())
        except (OSError, ValueError, RuntimeError) as e:
            if isinstance(e, MotionComicError):
                raise
            raise CheckpointError(f"{sub} could not be loaded ({e}). Download it again from {HF_REPO}.") from e
    return out


def read_config(folder: Path, part: str) -> dict:
    """A part's config.json as a dict (a clear error for a damaged one)."""
    path = folder / PARTS[part][0]
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path} could not be read ({e}). Download it again from {HF_REPO}.") from e


def frame_rules(unet_config: dict, vae_config: dict, default_frames: int | None = None, maximum: int = 128) -> dict:
    """``frame``/``frame_counts`` of an SVD-style model: 576 short side, long side up to 1024 (the
    trained 576x1024 frame), sides multiples of the latent factor x the UNet's downsampling. From the
    UNet's and the VAE's config.json alone (so a model can be described before its weights are read)."""
    from .video_model import FrameCounts, FrameSpec

    vae_scale = 2 ** (len(vae_config["block_out_channels"]) - 1)
    multiple = vae_scale * 2 ** (len(unet_config["block_out_channels"]) - 1)
    default = int(default_frames or unet_config.get("num_frames", 25))
    return dict(
        frame=FrameSpec(kind="aspect_range", short=576, long_max=1024, multiple=multiple),
        frame_counts=FrameCounts(step=1, offset=0, minimum=2, maximum=max(maximum, default), default=default),
    )


def place(modules: dict, offload: str, device) -> None:
    """none = every module on ``device`` now (``host.place``: ComfyUI frees room first); model = on
    the offload device (the sampler moves each to ``device`` while it runs)."""
    if offload not in OFFLOAD_MODES:
        raise MotionComicError(f"offload {offload!r} is unknown; use one of {', '.join(OFFLOAD_MODES)}")
    if offload == "none":
        host.place(list(modules.values()), device)
        return
    for m in modules.values():
        m.to(host.offload_device())


def plan_svd(model: str | os.PathLike, *, dtype: Any = "auto", device: Any = None, offload: str = "none"):
    """What :func:`load_svd` will load, without reading weights: ``(folder, dtype, device, rules)``
    (every file checked, the frame rules from the config files)."""
    import torch

    from .cogvideox import torch_dtype

    if offload not in OFFLOAD_MODES:
        raise MotionComicError(f"offload {offload!r} is unknown; use one of {', '.join(OFFLOAD_MODES)}")
    device = torch.device(device) if device is not None else host.torch_device()
    folder = resolve_folder(model)
    check_folder(folder, tuple(PARTS), need_weights=("unet", "vae", "image_encoder"))
    dt = torch_dtype(dtype, "svd", device)
    return folder, dt, device, frame_rules(read_config(folder, "unet"), read_config(folder, "vae"))


def svd_model(folder: Path, components: dict, dtype, device, offload: str, rules: dict, **info):
    from .video_model import VideoModel

    return VideoModel(family="svd", variant="svd", components=components, dtype=dtype, device=device,
                      offload=offload, name=folder.name, text_tokens=0, fps=7.0, info={"path": str(folder), **info},
                      **rules)


def load_svd(model: str | os.PathLike, *, dtype: Any = "auto", device: Any = None, offload: str = "none"):
    """Load an SVD image-to-video diffusers folder into a ``VideoModel`` (family ``svd``)."""
    folder, dt, device, rules = plan_svd(model, dtype=dtype, device=device, offload=offload)
    comps = load_svd_parts(folder, tuple(PARTS), dt)
    place({k: comps[k] for k in ("unet", "vae", "image_encoder")}, offload, device)
    log.info("loaded SVD from %s (%s, %s, offload %s)", folder, dt, device, offload)
    return svd_model(folder, comps, dt, device, offload, rules)
