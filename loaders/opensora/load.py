"""Load an STDiT3 checkpoint: infer the architecture from tensor shapes (``config.json`` honoured
when present), build the model on the meta device and move the weights in one tensor at a time.

Accepted: ``model.safetensors`` (HF ``hpcai-tech/OpenSora-STDiT-v3``), ``pytorch_model*.bin``
shards with their ``*.index.json``, a training ``ema.pt`` / ``model.pt`` (``module.`` prefix or
not), a folder holding any of these, or a single file in ``models/opensora`` /
``models/diffusion_models``.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from ...errors import CheckpointError
from .. import checkpoints
from ..identify import describe_checkpoint

log = logging.getLogger(__name__)

_SIGNATURE = ("x_embedder.proj.weight", "y_embedder.y_embedding", "spatial_blocks.0.attn.qkv.weight",
              "temporal_blocks.0.attn.qkv.weight", "final_layer.linear.weight")


def find_config_json(path: str | os.PathLike) -> dict:
    """The ``config.json`` of an STDiT3 checkpoint (in its folder or beside the file), or {}."""
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    cfg = folder / "config.json"
    if not cfg.is_file():
        return {}
    try:
        data = json.loads(cfg.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        log.warning("ignoring unreadable %s (%s)", cfg, e)
        return {}
    if data.get("model_type") not in (None, "STDiT3"):
        log.info("ignoring %s: model_type %r is not STDiT3", cfg, data.get("model_type"))
        return {}
    return data


def infer_config(shapes: dict[str, tuple[int, ...]], config_json: dict | None = None):
    """STDiT3Config from tensor shapes (any depth / width / heads), checked against ``config.json``.

    Raises :class:`CheckpointError` naming what the checkpoint looks like if it is not STDiT3.
    """
    from .stdit3 import STDiT3Config

    missing = [k for k in _SIGNATURE if k not in shapes]
    if missing:
        looks = describe_checkpoint(shapes)
        raise CheckpointError(
            f"this is not an Open-Sora ST-DiT (STDiT3) checkpoint: it looks like {looks} "
            f"(missing {', '.join(missing)}). Choose the STDiT3 file (e.g. hpcai-tech/OpenSora-STDiT-v3 "
            "model.safetensors) in models/opensora/; CogVideoX models go in the CogVideoX loader."
        )
    cj = config_json or {}
    hidden, in_ch, pt, ph, pw = shapes["x_embedder.proj.weight"]
    depth = 1 + max(int(k.split(".")[1]) for k in shapes if k.startswith("spatial_blocks."))
    t_depth = 1 + max(int(k.split(".")[1]) for k in shapes if k.startswith("temporal_blocks."))
    if t_depth != depth:
        raise CheckpointError(f"checkpoint has {depth} spatial but {t_depth} temporal blocks; it is incomplete")
    qk = shapes.get("spatial_blocks.0.attn.q_norm.weight")
    if qk is not None:
        heads = hidden // qk[0]
    elif "rope.freqs" in shapes:
        heads = hidden // (2 * shapes["rope.freqs"][0])
    else:
        heads = int(cj.get("num_heads", 16))
    token_num, cap_ch = shapes["y_embedder.y_embedding"]
    mlp_hidden = shapes["spatial_blocks.0.mlp.fc1.weight"][0]
    out_total = shapes["final_layer.linear.weight"][0]
    out_ch = out_total // (pt * ph * pw)
    if out_ch not in (in_ch, 2 * in_ch):
        raise CheckpointError(f"final_layer.linear has {out_total} outputs, expected {in_ch} or {2 * in_ch} per patch pixel")
    cfg = STDiT3Config(
        hidden_size=hidden, depth=depth, num_heads=heads, patch_size=(pt, ph, pw), in_channels=in_ch,
        pred_sigma=out_ch == 2 * in_ch, mlp_ratio=mlp_hidden / hidden, caption_channels=cap_ch,
        model_max_length=token_num, qk_norm=qk is not None,
        input_sq_size=int(cj.get("input_sq_size", 512)),
    )
    for key in ("hidden_size", "depth", "num_heads", "in_channels", "caption_channels", "model_max_length"):
        if key in cj and cj[key] is not None and int(cj[key]) != getattr(cfg, key):
            log.warning("config.json says %s=%s but the weights have %s; using the weights'", key, cj[key], getattr(cfg, key))
    return cfg


def load_stdit(path: str | os.PathLike, dtype=None, device=None):
    """Load an STDiT3 model from ``path`` (file, shard index or folder), in eval mode.

    ``dtype`` (default float32) applies to every floating tensor, as upstream's ``model.to(dtype)``.
    Raises :class:`CheckpointError` for another family, missing or unexpected tensors.
    """
    import torch

    from .stdit3 import STDiT3

    dtype = dtype or torch.float32
    device = torch.device(device or "cpu")
    shapes = checkpoints.read_shapes(path)
    cfg = infer_config(shapes, find_config_json(path))
    with torch.device("meta"):
        model = STDiT3(cfg)
    missing, unexpected = checkpoints.assign_tensors(model, checkpoints.iter_tensors(path), dtype=dtype, device=device)
    if unexpected:
        raise CheckpointError(
            f"{path}: {len(unexpected)} tensors do not belong to STDiT3 ({', '.join(unexpected[:5])}...). "
            "Is this a different Open-Sora version (1.0/1.1 STDiT/STDiT2)? Only Open-Sora 1.2 STDiT3 is supported."
        )
    if "rope.freqs" in missing:  # older exports may drop the non-learned rotary frequencies
        from .embeddings import RotaryEmbedding

        freqs = RotaryEmbedding(cfg.hidden_size // cfg.num_heads).freqs.detach().to(device=device, dtype=dtype)
        model.rope.freqs = torch.nn.Parameter(freqs, requires_grad=False)
        missing.remove("rope.freqs")
    if missing:
        raise CheckpointError(
            f"{path} is missing {len(missing)} STDiT3 tensors ({', '.join(missing[:5])}...); "
            "the file is incomplete or a different variant."
        )
    model.eval().requires_grad_(False)
    log.info("loaded STDiT3 %s (hidden %d, depth %d, heads %d) from %s", cfg.to_dict().get("patch_size"),
             cfg.hidden_size, cfg.depth, cfg.num_heads, path)
    return model
