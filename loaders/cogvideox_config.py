"""What a CogVideoX checkpoint is, from its config or its tensor shapes (never its file name).

Variants (``<version>-<task>``):

- ``1.0-i2v`` (CogVideoX-5B-I2V): transformer ``in_channels`` = 2 x latent channels, learned
  position embeddings (``patch_embed.pos_embedding``) so the frame is fixed (480x720), 8N+1 frames
  up to 49, 226 text tokens, 8 fps.
- ``1.5-i2v`` (CogVideoX-1.5-5B-I2V): ``patch_size_t`` 2 (``patch_embed.proj`` is a Linear),
  OFS embedding, any frame with short side 768 and long side <= 1360 (multiples of 16), 16N+1
  frames up to 81, 224 text tokens, 16 fps, bfloat16 only.

- ``1.0-t2v`` (CogVideoX-5B and CogVideoX-2B): ``in_channels`` = latent channels, 480x720,
  8N+1 frames up to 49, 226 tokens, 8 fps. The 2B has 30 layers of width 1920 and sincos position
  embeddings instead of RoPE (recognised from its config, or from that width in a single file).
- ``1.5-t2v`` (CogVideoX-1.5-5B): like ``1.5-i2v`` without the image channels and OFS embedding;
  the official size is 1360x768, any frame of the 1.5 rule is accepted.

Text-to-video models go to the Text to Video entry (``samplers/t2v.py``), image-to-video models to
Image to Video; each entry refuses the other kind naming the node to use.
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from ..errors import CheckpointError
from .identify import describe_checkpoint
from .video_model import FrameCounts, FrameSpec

#: Where users get each variant (Hugging Face repo ids).
HF_REPOS = {
    "1.0-i2v": "THUDM/CogVideoX-5b-I2V",
    "1.5-i2v": "THUDM/CogVideoX1.5-5B-I2V",
    "1.0-t2v": "THUDM/CogVideoX-5b (or THUDM/CogVideoX-2b)",
    "1.5-t2v": "THUDM/CogVideoX1.5-5B",
}
#: Width of the CogVideoX-2B transformer (30 heads x 64): the one 1.0 model without RoPE.
WIDTH_2B = 1920

#: Official configs; shape inference starts from these and overrides what the weights show.
BASE_TRANSFORMER = {
    "1.0-i2v": dict(
        num_attention_heads=48, attention_head_dim=64, in_channels=32, out_channels=16,
        time_embed_dim=512, text_embed_dim=4096, num_layers=42, sample_width=90, sample_height=60,
        sample_frames=49, patch_size=2, patch_size_t=None, temporal_compression_ratio=4,
        max_text_seq_length=226, use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=True, patch_bias=True, ofs_embed_dim=None,
    ),
    "1.5-i2v": dict(
        num_attention_heads=48, attention_head_dim=64, in_channels=32, out_channels=16,
        time_embed_dim=512, text_embed_dim=4096, num_layers=42, sample_width=300,
        sample_height=300, sample_frames=81, patch_size=2, patch_size_t=2,
        temporal_compression_ratio=4, max_text_seq_length=226,
        use_rotary_positional_embeddings=True, use_learned_positional_embeddings=False,
        patch_bias=False, ofs_embed_dim=512,
    ),
}
BASE_TRANSFORMER["1.0-t2v"] = dict(BASE_TRANSFORMER["1.0-i2v"], in_channels=16,
                                   use_learned_positional_embeddings=False)
BASE_TRANSFORMER["1.5-t2v"] = dict(BASE_TRANSFORMER["1.5-i2v"], in_channels=16, ofs_embed_dim=None)
#: CogVideoX-2B differs from the 5B T2V in width, depth and position embedding.
BASE_2B = dict(BASE_TRANSFORMER["1.0-t2v"], num_attention_heads=30, num_layers=30,
               use_rotary_positional_embeddings=False)
BASE_VAE = dict(
    in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
    up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(128, 256, 256, 512),
    latent_channels=16, layers_per_block=3, norm_num_groups=32, temporal_compression_ratio=4,
    sample_height=480, sample_width=720, scaling_factor=0.7, invert_scale_latents=False,
    use_quant_conv=False, use_post_quant_conv=False,
)
SCHEDULER_CONFIG = dict(
    beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, clip_sample=False,
    num_train_timesteps=1000, prediction_type="v_prediction", rescale_betas_zero_snr=True,
    set_alpha_to_one=True, snr_shift_scale=1.0, steps_offset=0, timestep_spacing="trailing",
)


def variant_of_config(cfg: dict, what: str = "this model") -> str:
    """``1.0-i2v`` / ``1.5-i2v`` / ``1.0-t2v`` / ``1.5-t2v`` from a diffusers transformer config."""
    cin, cout = cfg.get("in_channels", 16), cfg.get("out_channels", 16) or 16
    version = "1.5" if cfg.get("patch_size_t") else "1.0"
    if cin == cout:
        return f"{version}-t2v"
    if cin != 2 * cout:
        raise CheckpointError(
            f"{what} is a CogVideoX variant with {cin} input channels for {cout} latent channels (e.g. "
            f"CogVideoX-Fun inpaint/control models), not the official image-to-video model. Use "
            f"CogVideoX-5B-I2V ({HF_REPOS['1.0-i2v']}) or CogVideoX-1.5-5B-I2V ({HF_REPOS['1.5-i2v']})."
        )
    return f"{version}-i2v"


def _count(shapes, pattern: str) -> int:
    rx = re.compile(pattern)
    idx = {int(m.group(1)) for k in shapes if (m := rx.match(k))}
    return max(idx) + 1 if idx else 0


def _learned_grid(rows: int, text_len: int, frames: int) -> tuple[int, int] | None:
    """(patch rows, patch cols) of a learned position table: 2:3 like 480x720 if possible, else square."""
    spatial, rem = divmod(rows - text_len, (frames - 1) // 4 + 1)
    if rem or spatial <= 0:
        return None
    for a in range(1, int(spatial ** 0.5) + 2):
        if a * a * 3 == spatial * 2:
            return a, a * 3 // 2
    root = round(spatial ** 0.5)
    return (root, root) if root * root == spatial else (1, spatial)


def transformer_config_from_checkpoint(shapes: dict, path, read_tensor=None) -> tuple[str, dict]:
    """(variant, diffusers config) of a single-file CogVideoX transformer, from tensor shapes.

    ``read_tensor(name)`` reads one tensor (for the learned position table, whose leading zero rows
    give the text length). Raises :class:`CheckpointError` for another family.
    """
    name = getattr(path, "name", str(path))
    if "patch_embed.proj.weight" not in shapes or not any(k.startswith("transformer_blocks.0.") for k in shapes):
        raise CheckpointError(
            f"{name} is not a CogVideoX transformer; it looks like {describe_checkpoint(shapes)}. "
            "Put CogVideoX transformers in models/diffusion_models/ and load other models with their own nodes."
        )
    proj = shapes["patch_embed.proj.weight"]
    out_rows = shapes["proj_out.weight"][0]
    inner = proj[0]
    if len(proj) == 4:  # Conv2d patchify: CogVideoX 1.0
        p, pt = proj[2], 1
        cin, cout = proj[1], out_rows // (p * p)
    else:  # Linear patchify over (pt, p, p): CogVideoX 1.5
        p, pt = 2, 2
        cin, cout = proj[1] // (p * p * pt), out_rows // (p * p * pt)
    head_dim = shapes["transformer_blocks.0.attn1.norm_q.weight"][0]
    cfg_probe = {"in_channels": cin, "out_channels": cout, "patch_size_t": pt if pt > 1 else None}
    variant = variant_of_config(cfg_probe, name)
    cfg = dict(BASE_2B if variant == "1.0-t2v" and inner == WIDTH_2B else BASE_TRANSFORMER[variant])
    cfg.update(
        in_channels=cin, out_channels=cout, patch_size=p, num_attention_heads=inner // head_dim,
        attention_head_dim=head_dim, num_layers=_count(shapes, r"transformer_blocks\.(\d+)\."),
        time_embed_dim=shapes["time_embedding.linear_1.weight"][0],
        text_embed_dim=shapes["patch_embed.text_proj.weight"][1],
    )
    if "ofs_embedding.linear_1.weight" in shapes:
        cfg["ofs_embed_dim"] = shapes["ofs_embedding.linear_1.weight"][1]
    if variant.startswith("1.0"):
        cfg["patch_bias"] = "patch_embed.proj.bias" in shapes
        pos = shapes.get("patch_embed.pos_embedding")
        cfg["use_learned_positional_embeddings"] = pos is not None
        if pos is not None:
            text_len = cfg["max_text_seq_length"]
            if read_tensor is not None:
                table = read_tensor("patch_embed.pos_embedding")[0]
                nonzero = (table.abs().sum(-1) != 0).nonzero()
                text_len = int(nonzero[0]) if len(nonzero) else text_len
            grid = _learned_grid(pos[1], text_len, cfg["sample_frames"])
            if grid is None:
                raise CheckpointError(
                    f"{name}: cannot work out the frame size from its position table {pos}; "
                    "use the diffusers folder (transformer/config.json) instead."
                )
            cfg.update(max_text_seq_length=text_len, sample_height=grid[0] * p, sample_width=grid[1] * p)
    return variant, cfg


def vae_config_from_shapes(shapes: dict, variant: str) -> dict:
    """diffusers ``AutoencoderKLCogVideoX`` config from a single-file VAE's tensor shapes."""
    if "encoder.conv_in.conv.weight" not in shapes or "decoder.conv_in.conv.weight" not in shapes:
        raise CheckpointError(
            f"not a CogVideoX VAE; it looks like {describe_checkpoint(shapes)}. Use the vae/ folder "
            f"of {HF_REPOS.get(variant, HF_REPOS['1.0-i2v'])} or its diffusion_pytorch_model.safetensors."
        )
    blocks = _count(shapes, r"encoder\.down_blocks\.(\d+)\.")
    widths = tuple(shapes[f"encoder.down_blocks.{i}.resnets.0.conv2.conv.weight"][0] for i in range(blocks))
    groups = next(g for g in (32, 16, 8, 4, 2, 1) if all(w % g == 0 for w in widths))
    cfg = dict(BASE_VAE)
    cfg.update(
        block_out_channels=widths, latent_channels=shapes["decoder.conv_in.conv.weight"][1],
        layers_per_block=_count(shapes, r"encoder\.down_blocks\.0\.resnets\.(\d+)\."),
        down_block_types=("CogVideoXDownBlock3D",) * blocks,
        up_block_types=("CogVideoXUpBlock3D",) * blocks, norm_num_groups=groups,
        invert_scale_latents=variant.startswith("1.5"),
        use_quant_conv="quant_conv.weight" in shapes, use_post_quant_conv="post_quant_conv.weight" in shapes,
    )
    return cfg


def rules_for(variant: str, cfg: dict, vae_scale: int) -> dict:
    """The VideoModel rules (frame, frame counts, text tokens, fps) of a variant."""
    if variant.startswith("1.0"):
        size = (cfg["sample_height"] * vae_scale, cfg["sample_width"] * vae_scale)
        return dict(
            frame=FrameSpec("fixed", sizes=(size,)),
            frame_counts=FrameCounts(step=8, offset=1, minimum=9, maximum=49, default=49),
            text_tokens=cfg["max_text_seq_length"], fps=8.0,
        )
    return dict(
        frame=FrameSpec("aspect_range", short=768, long_max=1360, multiple=vae_scale * cfg["patch_size"]),
        frame_counts=FrameCounts(step=16, offset=1, minimum=17, maximum=81, default=81),
        text_tokens=min(224, cfg["max_text_seq_length"]), fps=16.0,
    )


@functools.lru_cache(maxsize=32)
def rules_from_files(path: str, mtime: float) -> tuple[str, dict]:
    """(variant, :func:`rules_for` dict) of a CogVideoX folder or single-file transformer, read from
    ``config.json`` files or the safetensors header only (``mtime`` keys the cache)."""
    from . import checkpoints

    p = Path(path)
    if p.is_dir():
        cfg = json.loads((p / "transformer" / "config.json").read_text())
        variant = variant_of_config(cfg, p.name)
        vae_cfg = p / "vae" / "config.json"
        scale = 2 ** (len(json.loads(vae_cfg.read_text())["block_out_channels"]) - 1) if vae_cfg.exists() else 8
    else:
        first = lambda n: next(checkpoints.iter_tensors(p, [n]))[1]  # noqa: E731
        variant, cfg = transformer_config_from_checkpoint(checkpoints.read_shapes(p), p, read_tensor=first)
        scale = 8
    return variant, rules_for(variant, cfg, scale)
