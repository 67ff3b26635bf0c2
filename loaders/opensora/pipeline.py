"""Load Open-Sora 1.2 for image-to-video: STDiT3 + VAE v1.2 + T5-XXL -> ``VideoModel``.

Where files are looked for (names relative to these folders, or absolute paths):

- STDiT3: ``models/opensora/`` or ``models/diffusion_models/`` — a ``.safetensors`` / ``.pt`` /
  ``.bin`` file, a shard index, or a folder (``hpcai-tech/OpenSora-STDiT-v3``: ``config.json`` +
  ``model.safetensors``; training output: ``pytorch_model*.bin`` + index, ``ema.pt``).
- VAE: ``models/opensora/`` or ``models/vae/`` (``hpcai-tech/OpenSora-VAE-v1.2`` model.safetensors).
- T5: ``models/text_encoders/`` or ``models/opensora/`` — a transformers folder
  (``DeepFloyd/t5-v1_1-xxl``) or a ComfyUI single file (``t5xxl_fp16.safetensors``) with the
  tokenizer found as ``loaders/t5.py`` describes.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ... import host
from ...errors import MotionComicError, ModelNotFoundError

log = logging.getLogger(__name__)

STDIT_REPO = "hpcai-tech/OpenSora-STDiT-v3"
VAE_REPO = "hpcai-tech/OpenSora-VAE-v1.2"
T5_REPO = "DeepFloyd/t5-v1_1-xxl"
OFFLOAD_MODES = ("none", "model")
_DTYPES = {"bf16": "bfloat16", "bfloat16": "bfloat16", "fp16": "float16", "float16": "float16",
           "fp32": "float32", "float32": "float32"}


def find_part(kinds: tuple[str, ...], name: str | os.PathLike, what: str, repo: str) -> Path:
    """Resolve ``name`` inside ``kinds``' folders (``host.find_model``: a ``Path`` is taken as given)."""
    return host.find_model(kinds, name, f"Download it from {repo} into models/{kinds[0]}/.", what=what)


def resolve_dtype(dtype: Any, device) -> Any:
    """``auto`` = bf16 on GPUs, fp32 on CPU; else bf16 / fp16 / fp32 or a torch dtype."""
    import torch

    if not isinstance(dtype, str):
        return dtype
    if dtype == "auto":
        return torch.float32 if torch.device(device).type == "cpu" else torch.bfloat16
    if dtype not in _DTYPES:
        raise MotionComicError(f"dtype {dtype!r} is unknown; use auto, bf16, fp16 or fp32")
    return getattr(torch, _DTYPES[dtype])


def _display_name(path: Path) -> str:
    """``OpenSora-STDiT-v3/model.safetensors`` -> ``OpenSora-STDiT-v3``; ``anime.safetensors`` -> ``anime``."""
    if path.is_file() and path.stem in ("model", "ema", "pytorch_model", "diffusion_pytorch_model"):
        return path.parent.name
    return path.stem if path.is_file() else path.name


def load_opensora(model: str | os.PathLike, vae: str | None = None, t5: str | None = None, *, dtype: Any = "auto",
                  device: Any = None, offload: str = "none", t5_dtype: Any = "fp32",
                  tokenizer_dir: str | None = None):
    """Load STDiT3 + VAE + T5 into a ``VideoModel`` (family ``opensora``).

    ``dtype`` is used for STDiT3 and the VAE; T5 runs in ``t5_dtype`` (float32 as upstream; bf16
    halves its memory). ``offload``: none (all on ``device``) or model (each part moves to the
    device while it runs).
    """
    import torch

    from ..t5 import load_t5_encoder
    from ..video_model import VideoModel
    from . import aspect
    from .load import load_stdit
    from .vae import load_opensora_vae

    if offload not in OFFLOAD_MODES:
        raise MotionComicError(f"offload {offload!r} is unknown for Open-Sora; use one of {', '.join(OFFLOAD_MODES)}")
    if not vae:
        raise MotionComicError(f"choose the Open-Sora VAE file ({VAE_REPO} model.safetensors in models/vae/)")
    if not t5:
        raise MotionComicError(f"choose the T5 text encoder ({T5_REPO} folder or t5xxl_fp16.safetensors)")
    device = torch.device(device) if device is not None else host.torch_device()
    dt = resolve_dtype(dtype, device)
    t5_dt = resolve_dtype(t5_dtype, device)
    place = device if offload == "none" else host.offload_device()

    model_path = find_part(("opensora", "diffusion_models"), model, "ST-DiT checkpoint", STDIT_REPO)
    vae_path = find_part(("vae", "opensora"), vae, "Open-Sora VAE", VAE_REPO)
    t5_path = find_part(("text_encoders", "opensora"), t5, "T5 encoder", T5_REPO)

    stdit = load_stdit(model_path, dtype=dt, device=place)
    vae_model = load_opensora_vae(vae_path, dtype=dt, device=place)
    encoder, tokenizer = load_t5_encoder(t5_path, t5_dt, place, tokenizer_dir=tokenizer_dir)
    cfg = stdit.config
    if encoder.config.d_model != cfg.caption_channels:
        raise MotionComicError(
            f"the T5 encoder gives {encoder.config.d_model}-dim features but this ST-DiT expects "
            f"{cfg.caption_channels} (T5-v1_1-XXL: 4096). Choose the matching text encoder."
        )
    if vae_model.temporal_vae.cfg.embed_dim != cfg.in_channels:
        raise MotionComicError(
            f"the VAE has {vae_model.temporal_vae.cfg.embed_dim} latent channels, the ST-DiT {cfg.in_channels}")
    variant = f"stdit3-h{cfg.hidden_size}-d{cfg.depth}"
    log.info("loaded Open-Sora %s from %s (%s, %s, offload %s)", variant, model_path, dt, device, offload)
    return VideoModel(
        family="opensora", variant=variant,
        components=dict(stdit=stdit, vae=vae_model, text_encoder=encoder, tokenizer=tokenizer),
        dtype=dt, device=device, frame=aspect.frame_spec(), frame_counts=aspect.FRAME_COUNTS,
        text_tokens=cfg.model_max_length, fps=aspect.FPS, offload=offload,
        name=_display_name(Path(model_path)),
        info={"path": str(model_path), "vae": str(vae_path), "t5": str(t5_path), "config": cfg.to_dict()},
    )
