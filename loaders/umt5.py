"""The umT5-XXL text encoder of Wan, from a transformers folder or a ComfyUI single file.

Accepted layouts:

- the ``text_encoder/`` folder of a Wan diffusers download (``UMT5EncoderModel``), or the
  diffusers root folder itself;
- ComfyUI's ``models/text_encoders/umt5_xxl_fp16.safetensors`` / ``umt5_xxl_fp8_e4m3fn_scaled
  .safetensors`` (T5 key names, a relative-attention bias in every block, scaled-fp8 weights with
  ``<linear>.scale_weight``, upcast to the compute dtype while loading). These files usually
  carry the tokenizer too, as a ``spiece_model`` byte tensor.

The tokenizer, in this order: ``tokenizer_dir``; the file's ``spiece_model``; a ``tokenizer/``
folder beside the encoder; ``models/text_encoders/umt5_tokenizer/``; the ``tokenizer/`` of a Wan
folder under ``models/diffusers/``. Without one: :data:`TOKENIZER_HINT`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from .. import host
from ..errors import CheckpointError, ModelNotFoundError
from . import checkpoints
from .identify import describe_checkpoint
from .t5 import _comfy_tensors, _has_tokenizer

log = logging.getLogger(__name__)

TOKENIZER_DIR = "umt5_tokenizer"
TOKENIZER_HINT = (
    "Put the umT5 tokenizer (spiece.model, tokenizer_config.json, special_tokens_map.json: the "
    "tokenizer/ folder of Wan-AI/Wan2.2-TI2V-5B-Diffusers or google/umt5-xxl) into "
    f"models/text_encoders/{TOKENIZER_DIR}/, or use ComfyUI's umt5_xxl_fp16.safetensors from "
    "Comfy-Org/Wan_2.1_ComfyUI_repackaged, which carries it."
)
_Q = "encoder.block.0.layer.0.SelfAttention.q.weight"
_SPIECE = "spiece_model"


def is_umt5(shapes: dict) -> bool:
    """umT5 has a relative-attention bias in every block (T5 only in the first)."""
    return "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight" in shapes


def umt5_config_from_shapes(shapes: dict):
    from transformers import UMT5Config

    vocab, d_model = shapes["shared.weight"]
    layers = 1 + max(int(k.split(".")[2]) for k in shapes if k.startswith("encoder.block."))
    buckets, heads = shapes["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
    d_ff = shapes["encoder.block.0.layer.1.DenseReluDense.wi_0.weight"][0]
    return UMT5Config(vocab_size=vocab, d_model=d_model, d_kv=shapes[_Q][0] // heads, num_heads=heads,
                      d_ff=d_ff, num_layers=layers, relative_attention_num_buckets=buckets,
                      feed_forward_proj="gated-gelu", is_encoder_decoder=False, pad_token_id=0,
                      eos_token_id=1, decoder_start_token_id=0)


def load_umt5_single_file(path: Path, dtype, device=None):
    """A transformers ``UMT5EncoderModel`` from a ComfyUI file, built on the meta device and
    filled tensor by tensor."""
    from accelerate import init_empty_weights
    from transformers import UMT5EncoderModel

    shapes = checkpoints.read_shapes(path)
    if _Q not in shapes or "shared.weight" not in shapes or not is_umt5(shapes):
        what = "a T5 (not umT5) encoder" if _Q in shapes else f"like {describe_checkpoint(shapes)}"
        raise CheckpointError(
            f"{path.name} is not an umT5 text encoder; it looks {what}. Wan needs umt5_xxl_fp16.safetensors "
            "or umt5_xxl_fp8_e4m3fn_scaled.safetensors (Comfy-Org/Wan_2.1_ComfyUI_repackaged, "
            "split_files/text_encoders/) or the text_encoder/ folder of a Wan diffusers download.")
    with init_empty_weights():
        model = UMT5EncoderModel(umt5_config_from_shapes(shapes))
    drop = {"encoder.embed_tokens.weight", _SPIECE}
    missing, unexpected = checkpoints.assign_tensors(
        model, _comfy_tensors(path, {k: v for k, v in shapes.items() if k != _SPIECE}), dtype=dtype,
        device=device or "cpu", key_map=lambda k: None if k in drop else k)
    model.encoder.embed_tokens = model.shared
    missing = [m for m in missing if m != "encoder.embed_tokens.weight"]
    if missing:
        raise CheckpointError(f"{path.name} lacks umT5 weights: {', '.join(missing[:8])}")
    if unexpected:
        log.warning("%s: ignored %d unexpected tensors (%s)", path.name, len(unexpected), unexpected[:4])
    return model.eval()


def tokenizer_from_file(path: Path) -> Path | None:
    """The ``spiece_model`` bytes of a ComfyUI umT5 file unpacked as a tokenizer folder (cached
    by content under the temp directory), or None when the file has none."""
    if _SPIECE not in checkpoints.read_shapes(path):
        return None
    _, blob = next(checkpoints.iter_tensors(path, [_SPIECE]))
    data = blob.numpy().tobytes()
    folder = host.temp_dir() / f"umt5_tokenizer_{hashlib.sha256(data).hexdigest()[:16]}"
    if not (folder / "spiece.model").exists():
        folder.mkdir(parents=True, exist_ok=True)
        special = {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
        (folder / "special_tokens_map.json").write_text(json.dumps(special))
        (folder / "tokenizer_config.json").write_text(json.dumps(
            {**special, "tokenizer_class": "T5Tokenizer", "model_max_length": 512, "extra_ids": 0,
             "additional_special_tokens": []}))
        (folder / "spiece.model").write_bytes(data)
    return folder


def tokenizer_candidates(encoder_path: Path | None) -> list[Path]:
    cands: list[Path] = []
    if encoder_path is not None:
        base = encoder_path if encoder_path.is_dir() else encoder_path.parent
        cands += [base / "tokenizer", base.parent / "tokenizer", base]
    cands += [root / TOKENIZER_DIR for root in host.search_paths("text_encoders")]
    for root in host.search_paths("diffusers"):
        if root.is_dir():
            cands += sorted(d / "tokenizer" for d in root.iterdir()
                            if d.is_dir() and "wan" in json.dumps(_index(d)).lower())
    return cands


def _index(folder: Path) -> dict:
    try:
        return json.loads((folder / "model_index.json").read_text())
    except (OSError, ValueError):
        return {}


def load_umt5_tokenizer(tokenizer_dir: str | os.PathLike | None, encoder_path: Path | None):
    from transformers import AutoTokenizer

    if tokenizer_dir:
        cands = [Path(tokenizer_dir)]
    else:
        embedded = tokenizer_from_file(encoder_path) if encoder_path is not None and encoder_path.is_file() else None
        cands = ([embedded] if embedded else []) + tokenizer_candidates(encoder_path)
    for c in cands:
        if _has_tokenizer(c):
            log.info("umT5 tokenizer from %s", c)
            return AutoTokenizer.from_pretrained(str(c))
    where = ", ".join(dict.fromkeys(str(c) for c in cands))
    raise ModelNotFoundError(f"No umT5 tokenizer found (the text encoder file has none inside). Looked in: "
                             f"{where}. {TOKENIZER_HINT}")


def load_umt5_encoder(path_or_folder: str | os.PathLike, dtype: Any, device: Any = None,
                      tokenizer_dir: str | os.PathLike | None = None) -> tuple[Any, Any]:
    """Load Wan's umT5 encoder and tokenizer: ``(UMT5EncoderModel in eval mode, tokenizer)``."""
    p = Path(path_or_folder)
    if not p.exists():
        raise ModelNotFoundError(f"umT5 text encoder {p} not found. {TOKENIZER_HINT}")
    if p.is_dir() and (p / "model_index.json").exists():
        p = p / "text_encoder"
    if p.is_dir():
        cfg = p / "config.json"
        if not cfg.exists():
            raise ModelNotFoundError(f"{p} has no config.json: it is not a transformers umT5 folder.")
        model_type = json.loads(cfg.read_text()).get("model_type", "")
        if model_type != "umt5":
            raise CheckpointError(f"{p} holds a {model_type or 'non-umT5'} model; Wan needs the umT5-XXL encoder")
        from transformers import UMT5EncoderModel

        enc = UMT5EncoderModel.from_pretrained(str(p), dtype=dtype).eval()
        if device is not None:
            enc = enc.to(device)
    else:
        enc = load_umt5_single_file(p, dtype, device)
    return enc, load_umt5_tokenizer(tokenizer_dir, p)
