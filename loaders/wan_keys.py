"""Key names of Wan checkpoints: the original / ComfyUI layout -> diffusers' names.

ComfyUI users keep Wan weights in the layout of the official Wan repositories
(``models/diffusion_models/wan2.2_*.safetensors``, ``models/vae/wan*_vae.safetensors``): the
transformer as ``patch_embedding``, ``blocks.N.self_attn.q``, ``head.modulation`` ... (sometimes
under ``model.diffusion_model.``), the VAE as ``encoder.downsamples.N`` ... We load them into
diffusers' ``WanTransformer3DModel`` / ``AutoencoderKLWan``, renaming each key as it streams in
(no second copy of the weights).

Facts these renames encode (checked against ComfyUI's ``comfy/ldm/wan`` modules on tiny
configs, see ``tests/data/wan/comfy_layout.json``):

- transformer: the block's cross-attention norm is ``norm3`` in the original and ``norm2`` in
  diffusers (the other two norms have no weights); ``modulation`` is ``scale_shift_table``.
- VAE 2.1: encoder blocks are one flat list with the same indices in both layouts; the decoder's
  flat list is grouped per level (residual blocks, then one resample closing the level).
- VAE 2.2: both encoder and decoder are nested per level (``downsamples.i.downsamples.j``); the
  last entry of a level is its resample when the level changes resolution.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable

ORIGINAL_PREFIX = "model.diffusion_model."

_TRANSFORMER_RENAMES: tuple[tuple[str, str], ...] = (
    ("time_embedding.0.", "condition_embedder.time_embedder.linear_1."),
    ("time_embedding.2.", "condition_embedder.time_embedder.linear_2."),
    ("text_embedding.0.", "condition_embedder.text_embedder.linear_1."),
    ("text_embedding.2.", "condition_embedder.text_embedder.linear_2."),
    ("time_projection.1.", "condition_embedder.time_proj."),
    ("img_emb.proj.0.", "condition_embedder.image_embedder.norm1."),
    ("img_emb.proj.1.", "condition_embedder.image_embedder.ff.net.0.proj."),
    ("img_emb.proj.3.", "condition_embedder.image_embedder.ff.net.2."),
    ("img_emb.proj.4.", "condition_embedder.image_embedder.norm2."),
    ("head.head.", "proj_out."),
)
_BLOCK_RENAMES: tuple[tuple[str, str], ...] = (
    ("self_attn.q.", "attn1.to_q."), ("self_attn.k.", "attn1.to_k."), ("self_attn.v.", "attn1.to_v."),
    ("self_attn.o.", "attn1.to_out.0."), ("self_attn.", "attn1."),
    ("cross_attn.q.", "attn2.to_q."), ("cross_attn.k.", "attn2.to_k."), ("cross_attn.v.", "attn2.to_v."),
    ("cross_attn.o.", "attn2.to_out.0."), ("cross_attn.k_img.", "attn2.add_k_proj."),
    ("cross_attn.v_img.", "attn2.add_v_proj."), ("cross_attn.norm_k_img.", "attn2.norm_added_k."),
    ("cross_attn.", "attn2."), ("norm3.", "norm2."), ("ffn.0.", "ffn.net.0.proj."), ("ffn.2.", "ffn.net.2."),
)
_BLOCK_RE = re.compile(r"^blocks\.(\d+)\.(.*)$")


def is_original_transformer(keys: Iterable[str]) -> bool:
    """True for the original/ComfyUI layout (``head.modulation``), False for diffusers names."""
    return any(k.endswith("head.modulation") for k in keys)


def transformer_key(key: str) -> str:
    """One original/ComfyUI transformer key -> its diffusers ``WanTransformer3DModel`` name."""
    if key.startswith(ORIGINAL_PREFIX):
        key = key[len(ORIGINAL_PREFIX):]
    if key == "head.modulation":
        return "scale_shift_table"
    m = _BLOCK_RE.match(key)
    if m:
        rest = m.group(2)
        if rest == "modulation":
            return f"blocks.{m.group(1)}.scale_shift_table"
        for old, new in _BLOCK_RENAMES:
            if rest.startswith(old):
                rest = new + rest[len(old):]
                break
        return f"blocks.{m.group(1)}.{rest}"
    for old, new in _TRANSFORMER_RENAMES:
        if key.startswith(old):
            return new + key[len(old):]
    return key


# --------------------------------------------------------------------------- VAE
_RESIDUAL = (("residual.0.gamma", "norm1.gamma"), ("residual.2.", "conv1."), ("residual.3.gamma", "norm2.gamma"),
             ("residual.6.", "conv2."), ("shortcut.", "conv_shortcut."))
_TOP = {"conv1.": "quant_conv.", "conv2.": "post_quant_conv."}


def is_original_vae(keys: Iterable[str]) -> bool:
    return any(k.startswith("encoder.downsamples.") for k in keys)


def _residual(rest: str) -> str:
    for old, new in _RESIDUAL:
        if rest.startswith(old):
            return new + rest[len(old):]
    return rest


def _is_resample(sub_keys: Iterable[str]) -> bool:
    return any(s.startswith(("resample.", "time_conv.")) for s in sub_keys)


def vae_key_map(keys: Iterable[str]) -> Callable[[str], str | None]:
    """A renaming function original/ComfyUI Wan VAE key -> diffusers ``AutoencoderKLWan`` key,
    for the Wan 2.1 (flat) or 2.2 (nested) layout, worked out from the file's own key set."""
    keys = list(keys)
    table: dict[str, str] = {}
    nested = any(re.match(r"encoder\.downsamples\.\d+\.downsamples\.", k) for k in keys)
    for part in ("encoder", "decoder"):
        table[f"{part}.conv1."] = f"{part}.conv_in."
        table[f"{part}.head.0."] = f"{part}.norm_out."
        table[f"{part}.head.2."] = f"{part}.conv_out."
        table[f"{part}.middle.0."] = f"{part}.mid_block.resnets.0."
        table[f"{part}.middle.1."] = f"{part}.mid_block.attentions.0."
        table[f"{part}.middle.2."] = f"{part}.mid_block.resnets.1."
    if nested:
        for part, new, sampler in (("encoder.downsamples", "encoder.down_blocks", "downsampler"),
                                   ("decoder.upsamples", "decoder.up_blocks", "upsampler")):
            inner = part.split(".")[1]
            rx = re.compile(rf"{re.escape(part)}\.(\d+)\.{inner}\.(\d+)\.(.*)")
            subs: dict[tuple[int, int], list[str]] = {}
            for k in keys:
                if m := rx.match(k):
                    subs.setdefault((int(m.group(1)), int(m.group(2))), []).append(m.group(3))
            for (i, j), rests in subs.items():
                target = f"{new}.{i}.{sampler}." if _is_resample(rests) else f"{new}.{i}.resnets.{j}."
                table[f"{part}.{i}.{inner}.{j}."] = target
    else:
        for k in keys:  # encoder: the same flat indices
            if m := re.match(r"encoder\.downsamples\.(\d+)\.", k):
                table[m.group(0)] = f"encoder.down_blocks.{m.group(1)}."
        subs21: dict[int, list[str]] = {}
        for k in keys:
            if m := re.match(r"decoder\.upsamples\.(\d+)\.(.*)", k):
                subs21.setdefault(int(m.group(1)), []).append(m.group(2))
        level, res = 0, 0
        for idx in sorted(subs21):
            if _is_resample(subs21[idx]):
                table[f"decoder.upsamples.{idx}."] = f"decoder.up_blocks.{level}.upsamplers.0."
                level, res = level + 1, 0
            else:
                table[f"decoder.upsamples.{idx}."] = f"decoder.up_blocks.{level}.resnets.{res}."
                res += 1
    prefixes = sorted(table, key=len, reverse=True)

    def rename(key: str) -> str | None:
        for top, new in _TOP.items():
            if key.startswith(top):
                return new + key[len(top):]
        for p in prefixes:
            if key.startswith(p):
                return table[p] + _residual(key[len(p):])
        return key

    return rename
