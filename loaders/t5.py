"""T5 text encoders (CogVideoX, Open-Sora) from a transformers folder or a ComfyUI single file.

Accepted layouts:

- a transformers folder (``config.json`` + ``model.safetensors``/shards), e.g. ``text_encoder/``
  of a diffusers CogVideoX folder, or a diffusers root folder (its ``text_encoder/`` is used);
- a ComfyUI single file, ``models/text_encoders/t5xxl_fp16.safetensors`` /
  ``t5xxl_fp8_e4m3fn.safetensors`` / ``t5xxl_fp8_e4m3fn_scaled.safetensors`` (keys
  ``shared.weight`` + ``encoder.block.N...``; the scaled variant stores ``<linear>.scale_weight``
  and a ``scaled_fp8`` marker). fp8 weights are upcast to the compute dtype while loading.

Single files hold no tokenizer. We look for one, in this order: ``tokenizer_dir``; a
``tokenizer/`` folder beside a ``text_encoder/`` folder; ``models/text_encoders/t5_tokenizer/``;
the ``tokenizer/`` of any diffusers folder under ``models/CogVideo/``; ComfyUI's bundled
``comfy/text_encoders/t5_tokenizer/`` (same T5 v1.1 vocabulary).
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from .. import host
from ..errors import CheckpointError, ModelNotFoundError
from . import checkpoints
from .identify import describe_checkpoint

log = logging.getLogger(__name__)

TOKENIZER_FILES = ("spiece.model", "tokenizer.json")
TOKENIZER_HINT = (
    "Put the T5 tokenizer files (spiece.model + tokenizer_config.json + special_tokens_map.json, "
    "e.g. the tokenizer/ folder of THUDM/CogVideoX-5b-I2V or google/t5-v1_1-xxl) into "
    "models/text_encoders/t5_tokenizer/."
)
_T5_KEY = "encoder.block.0.layer.0.SelfAttention.q.weight"


def _has_tokenizer(folder: Path) -> bool:
    return folder.is_dir() and any((folder / f).exists() for f in TOKENIZER_FILES)


def tokenizer_candidates(encoder_path: Path | None = None) -> list[Path]:
    """Folders searched for a T5 tokenizer, in order (see the module docstring)."""
    cands: list[Path] = []
    if encoder_path is not None:
        p = Path(encoder_path)
        base = p if p.is_dir() else p.parent
        cands += [base / "tokenizer", base.parent / "tokenizer", base]
    for root in host.search_paths("text_encoders"):
        cands.append(root / "t5_tokenizer")
    for kind in ("CogVideo", "diffusers"):
        for root in host.search_paths(kind):
            if root.is_dir():
                cands += sorted(d / "tokenizer" for d in root.iterdir() if d.is_dir())
    if host.in_comfyui():
        try:
            import comfy.text_encoders as cte

            cands.append(Path(os.path.dirname(cte.__file__)) / "t5_tokenizer")
        except Exception:  # pragma: no cover - ComfyUI layout changed
            pass
    return cands


def load_tokenizer(folder: str | os.PathLike | None = None, encoder_path: Path | None = None):
    """A T5 tokenizer from ``folder`` or the first folder of :func:`tokenizer_candidates`."""
    from transformers import AutoTokenizer

    cands = [Path(folder)] if folder else tokenizer_candidates(encoder_path)
    for c in cands:
        if _has_tokenizer(c):
            log.info("T5 tokenizer from %s", c)
            return AutoTokenizer.from_pretrained(str(c))
    raise ModelNotFoundError(
        "No T5 tokenizer found. Looked in: " + ", ".join(str(c) for c in cands) + ". " + TOKENIZER_HINT
    )


def t5_config_from_shapes(shapes: dict[str, tuple[int, ...]]):
    """A transformers ``T5Config`` for a T5 encoder single file, from its tensor shapes."""
    from transformers import T5Config

    vocab, d_model = shapes["shared.weight"]
    layers = 1 + max(int(k.split(".")[2]) for k in shapes if k.startswith("encoder.block."))
    inner = shapes[_T5_KEY][0]
    buckets, heads = shapes["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
    gated = "encoder.block.0.layer.1.DenseReluDense.wi_0.weight" in shapes
    ff_key = "wi_0" if gated else "wi"
    d_ff = shapes[f"encoder.block.0.layer.1.DenseReluDense.{ff_key}.weight"][0]
    return T5Config(
        vocab_size=vocab, d_model=d_model, d_kv=inner // heads, num_heads=heads, d_ff=d_ff,
        num_layers=layers, relative_attention_num_buckets=buckets,
        feed_forward_proj="gated-gelu" if gated else "relu", is_encoder_decoder=False,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
    )


def _comfy_tensors(path: Path, shapes: dict):
    """(name, tensor) pairs of a ComfyUI T5 file with scaled-fp8 weights multiplied back."""
    import torch

    scale_keys = [k for k in shapes if k.endswith(".scale_weight") or k.endswith(".scale_input")]
    scales = dict(checkpoints.iter_tensors(path, [k for k in scale_keys if k.endswith(".scale_weight")]))
    for name, t in checkpoints.iter_tensors(path):
        if name in scale_keys or name == "scaled_fp8":
            continue
        s = scales.get(name[: -len("weight")] + "scale_weight") if name.endswith(".weight") else None
        if s is not None:
            t = t.to(torch.float32) * s.to(torch.float32)
        elif t.dtype in (torch.float8_e4m3fn, torch.float8_e5m2):
            t = t.to(torch.float32)
        yield name, t


def load_t5_single_file(path: str | os.PathLike, dtype, device=None):
    """A transformers ``T5EncoderModel`` from a ComfyUI-style single file, built on the meta device
    and filled tensor by tensor (no second copy)."""
    from accelerate import init_empty_weights
    from transformers import T5EncoderModel

    path = Path(path)
    shapes = checkpoints.read_shapes(path)
    if _T5_KEY not in shapes or "shared.weight" not in shapes:
        raise CheckpointError(
            f"{path.name} is not a T5 text encoder; it looks like {describe_checkpoint(shapes)}. "
            "Choose t5xxl_fp16.safetensors or t5xxl_fp8_e4m3fn.safetensors (from "
            "comfyanonymous/flux_text_encoders) or the text_encoder/ folder of a CogVideoX download."
        )
    config = t5_config_from_shapes(shapes)
    with init_empty_weights():
        model = T5EncoderModel(config)
    missing, unexpected = checkpoints.assign_tensors(
        model, _comfy_tensors(path, shapes), dtype=dtype, device=device or "cpu",
        key_map=lambda k: None if k == "encoder.embed_tokens.weight" else k,
    )
    model.encoder.embed_tokens = model.shared  # tied in T5; the file stores it once
    missing = [m for m in missing if m != "encoder.embed_tokens.weight"]
    if missing:
        raise CheckpointError(f"{path.name} lacks T5 weights: {', '.join(missing[:8])}")
    if unexpected:
        log.warning("%s: ignored %d unexpected tensors (%s)", path.name, len(unexpected), unexpected[:4])
    return model.eval()


def load_t5_encoder(path_or_folder: str | os.PathLike, dtype: Any, device: Any = None,
                    tokenizer_dir: str | os.PathLike | None = None) -> tuple[Any, Any]:
    """Load a T5 encoder and its tokenizer.

    ``path_or_folder``: a transformers folder (``config.json``), a diffusers root folder (uses its
    ``text_encoder/`` and ``tokenizer/``), or a ComfyUI single ``.safetensors`` file. ``dtype`` is
    the torch compute dtype (T5 overflows in float16: prefer bfloat16 or float32). Returns
    ``(T5EncoderModel in eval mode, tokenizer)``.
    """
    p = Path(path_or_folder)
    if not p.exists():
        raise ModelNotFoundError(f"T5 encoder {p} not found. {TOKENIZER_HINT}")
    if p.is_dir() and (p / "model_index.json").exists():
        p = p / "text_encoder"
    if p.is_dir():
        cfg = p / "config.json"
        if not cfg.exists():
            raise ModelNotFoundError(
                f"{p} has no config.json: it is not a transformers T5 folder. Download text_encoder/ "
                "of THUDM/CogVideoX-5b-I2V, or use a t5xxl_*.safetensors single file."
            )
        model_type = json.loads(cfg.read_text()).get("model_type", "")
        if model_type not in ("t5", "umt5", "mt5"):
            raise CheckpointError(f"{p} holds a {model_type or 'non-T5'} model, not a T5 encoder")
        from transformers import T5EncoderModel

        enc = T5EncoderModel.from_pretrained(str(p), dtype=dtype)
        if device is not None:
            enc = enc.to(device)
        enc.eval()
    else:
        enc = load_t5_single_file(p, dtype, device)
    tok = load_tokenizer(tokenizer_dir, encoder_path=p)
    return enc, tok
