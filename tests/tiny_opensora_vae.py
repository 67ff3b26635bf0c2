"""Tiny Open-Sora VAE v1.2 in the official single-file layout, for tests.

``write_tiny_opensora_vae(path)`` writes one safetensors file with ``spatial_vae.module.*`` (a small
``AutoencoderKL``: 4 levels of 32 channels, so still 8x) and ``temporal_vae.*`` (filters 32, one
res-block per level, upstream's multipliers and temporal downsampling) plus the ``scale``/``shift``
buffers. Weights come from a seed recipe (``tiny_vae_state_dict``), so expected outputs computed by
upstream's code on the same file can be committed without the weights.
"""
from __future__ import annotations

from pathlib import Path

import torch

TINY_SPATIAL = dict(
    in_channels=3, out_channels=3,
    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
    block_out_channels=(32, 32, 32, 32), layers_per_block=1, latent_channels=4, norm_num_groups=32,
)
TINY_TEMPORAL = dict(filters=32, num_res_blocks=1)


def build_tiny_vae(meta: bool = True):
    """Our :class:`OpenSoraVAE` with the tiny configuration (on the meta device by default)."""
    from motioncomic.loaders.opensora.temporal_vae import TemporalVAEConfig
    from motioncomic.loaders.opensora.vae import OpenSoraVAE

    if meta:
        with torch.device("meta"):
            return OpenSoraVAE(dict(TINY_SPATIAL), TemporalVAEConfig(**TINY_TEMPORAL))
    return OpenSoraVAE(dict(TINY_SPATIAL), TemporalVAEConfig(**TINY_TEMPORAL))


def recipe_tensor(name: str, shape: tuple[int, ...], g: torch.Generator) -> torch.Tensor:
    """Deterministic weights that keep activations in a sane range (fan-in scaled)."""
    leaf = name.rsplit(".", 1)[-1]
    is_norm = ".norm" in name or "group_norm" in name or "conv_norm_out" in name
    if is_norm and leaf == "weight":
        return 1.0 + 0.1 * torch.randn(shape, generator=g)
    if leaf == "bias":
        return 0.05 * torch.randn(shape, generator=g)
    fan_in = 1
    for s in shape[1:]:
        fan_in *= s
    return torch.randn(shape, generator=g) / max(fan_in, 1) ** 0.5


def tiny_vae_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Official-layout state dict of the tiny VAE; same seed -> same tensors."""
    vae = build_tiny_vae(meta=True)
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}
    for name, t in sorted(vae.state_dict().items()):
        if name in ("scale", "shift"):
            sd[name] = t.detach().clone().float()
        else:
            sd[name] = recipe_tensor(name, tuple(t.shape), g).contiguous()
    return sd


def write_tiny_opensora_vae(path: str | Path, seed: int = 0, parts: tuple[str, ...] = ("spatial", "temporal"),
                            with_norm_buffers: bool = True) -> Path:
    """Write the tiny VAE file; ``parts`` picks which halves to include (for bad-input tests)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keep = []
    if "spatial" in parts:
        keep.append("spatial_vae.")
    if "temporal" in parts:
        keep.append("temporal_vae.")
    sd = {k: v for k, v in tiny_vae_state_dict(seed).items()
          if k.startswith(tuple(keep)) or (with_norm_buffers and k in ("scale", "shift"))}
    save_file(sd, str(path), metadata={"format": "pt"})
    return path


def tiny_clip(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """A reproducible video ``[B,3,T,H,W]`` in -1..1 (same recipe as the reference script)."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g) * 2 - 1


def tiny_latents(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Reproducible normalised latents ``[B,4,T',h,w]``."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g)
