"""Open-Sora 1.2 video VAE: per-frame ``AutoencoderKL`` (8x space) + causal temporal VAE (4x time).

API (what the ST-DiT sampler calls)::

    vae = load_opensora_vae(path, dtype=torch.float32, device=None, micro_batch_size=4)
    z = vae.encode(x)                 # x [B,3,T,H,W] in -1..1 -> z [B,4,T',H/8,W/8], normalised
    x = vae.decode(z, num_frames=T)   # -> [B,3,T,H,W], roughly -1..1 (not clamped)
    vae.get_latent_size((T, H, W))    # -> [T', H/8, W/8]; 51 -> 15, 102 -> 30, 17 -> 5, 1 -> 1
    vae.enable_tiling(256)            # optional: spatial tiles of 256 px for very large frames

Behaviour follows upstream's ``VideoAutoencoderPipeline`` (``OpenSoraVAE_V1_2``):

- **Encode**: every frame goes through the spatial VAE in micro-batches of ``micro_batch_size``
  frames (latent x 0.18215); the spatial latents are cut into chunks of 17 frames, each chunk is
  zero-padded at the front to a multiple of 4 and encoded by the temporal VAE (17 -> 5 latent
  frames, a 1-frame image -> 1); results are concatenated and normalised ``(z - shift) / scale``.
  Like upstream, both posteriors are *sampled* (``sample=True``); pass a ``torch.Generator`` for
  reproducible noise (drawn on the CPU in float32 in upstream's order, so a generator seeded ``s``
  reproduces upstream run after ``torch.manual_seed(s)``), or ``sample=False`` for the means.
- **Decode**: de-normalise, decode chunks of 5 latent frames with the temporal VAE (each chunk gives
  17 frames; the last one ``num_frames`` mod 17, front padding cut), then every frame through the
  spatial decoder in micro-batches (latent / 0.18215).
- Inputs are cast to the VAE's dtype and device; outputs are float32 on the input's device.
- A chunk or micro-batch that runs out of memory is retried with half the micro-batch.
- Progress and cancel (``host.Progress``) step once per spatial micro-batch and temporal chunk.

Files: the official ``hpcai-tech/OpenSora-VAE-v1.2`` ``model.safetensors`` (``spatial_vae.module.*``
+ ``temporal_vae.*``, optional ``scale``/``shift`` buffers) loads unchanged, also as a pickle
(``weights_only``), with a ``module.`` prefix or legacy attention names (``query/key/value``).
Sizes are read from tensor shapes, so smaller test models load the same way.
"""
from __future__ import annotations

import logging
import os
from typing import Callable, Sequence

import torch
from torch import nn

from ... import host
from ...errors import CheckpointError, ModelNotFoundError, MotionComicError
from ..checkpoints import assign_tensors, iter_tensors, read_shapes
from ..identify import describe_checkpoint
from .temporal_vae import TemporalVAE, TemporalVAEConfig, infer_temporal_config, latent_frames

log = logging.getLogger(__name__)

SPATIAL_PREFIX = "spatial_vae.module."
TEMPORAL_PREFIX = "temporal_vae."
SPATIAL_SCALE = 0.18215
LATENT_SHIFT = (-0.10, 0.34, 0.27, 0.98)
LATENT_SCALE = (3.85, 2.32, 2.33, 3.06)
MICRO_FRAMES = 17
WHERE_TO_GET = ("Download model.safetensors of hpcai-tech/OpenSora-VAE-v1.2 (it holds both halves) "
                "into models/vae/ or models/opensora/.")
#: ``AutoencoderKL`` config of the official spatial half (PixArt-sigma's SDXL VAE).
OFFICIAL_SPATIAL_CONFIG = dict(
    in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(128, 256, 512, 512), layers_per_block=2,
    latent_channels=4, norm_num_groups=32, mid_block_add_attention=True, use_quant_conv=True,
    use_post_quant_conv=True,
)
_LEGACY_ATTN = {".query.": ".to_q.", ".key.": ".to_k.", ".value.": ".to_v.", ".proj_attn.": ".to_out.0."}


class SpatialVAE(nn.Module):
    """Holds the diffusers ``AutoencoderKL`` as ``.module`` (upstream's ``VideoAutoencoderKL``)."""

    def __init__(self, config: dict):
        super().__init__()
        from diffusers import AutoencoderKL

        self.module = AutoencoderKL(**config)


class OpenSoraVAE(nn.Module):
    """The two-stage video VAE; parameter names equal upstream's ``VideoAutoencoderPipeline``."""

    def __init__(self, spatial_config: dict, temporal_config: TemporalVAEConfig = TemporalVAEConfig(),
                 micro_batch_size: int | None = 4):
        super().__init__()
        self.spatial_vae = SpatialVAE(spatial_config)
        self.temporal_vae = TemporalVAE(temporal_config)
        self.micro_batch_size = micro_batch_size
        self.micro_frame_size = MICRO_FRAMES
        self.micro_z_frame_size = latent_frames(MICRO_FRAMES, temporal_config.time_factor)
        c = temporal_config.embed_dim
        shift = LATENT_SHIFT if c == len(LATENT_SHIFT) else (0.0,) * c
        scale = LATENT_SCALE if c == len(LATENT_SCALE) else (1.0,) * c
        self.register_buffer("scale", torch.tensor(scale, device="cpu").view(1, c, 1, 1, 1))
        self.register_buffer("shift", torch.tensor(shift, device="cpu").view(1, c, 1, 1, 1))

    # ------------------------------------------------------------------ sizes
    @property
    def time_factor(self) -> int:
        return self.temporal_vae.time_factor

    @property
    def out_channels(self) -> int:
        """Latent channels (4), as upstream's ``vae.out_channels``."""
        return self.temporal_vae.cfg.in_out_channels

    @property
    def device(self) -> torch.device:
        return self._param().device

    @property
    def dtype(self) -> torch.dtype:
        return self._param().dtype

    def get_latent_size(self, input_size: Sequence[int | None]) -> list[int | None]:
        """``(T, H, W)`` pixels -> ``[T', H/8, W/8]`` latents (None stays None), as upstream."""
        t, h, w = input_size
        down = 2 ** (len(self.spatial_vae.module.config.block_out_channels) - 1)
        lh = None if h is None else h // down
        lw = None if w is None else w // down
        if t is None:
            return [None, lh, lw]
        full, rest = divmod(int(t), self.micro_frame_size)
        lt = full * self.micro_z_frame_size + (latent_frames(rest, self.time_factor) if rest else 0)
        return [lt, lh, lw]

    def frames_for_latents(self, n_latent: int) -> list[int]:
        """All frame counts that encode to ``n_latent`` latent frames (for error messages)."""
        limit = (n_latent // self.micro_z_frame_size + 2) * self.micro_frame_size
        return [f for f in range(1, limit) if self.get_latent_size((f, None, None))[0] == n_latent]

    def enable_tiling(self, tile_size: int = 256) -> None:
        """Encode/decode frames larger than ``tile_size`` px in overlapping spatial tiles (diffusers'
        tiling; output differs slightly from untiled at the seams)."""
        m = self.spatial_vae.module
        down = 2 ** (len(m.config.block_out_channels) - 1)
        m.tile_sample_min_size, m.tile_latent_min_size = int(tile_size), int(tile_size) // down
        m.enable_tiling()

    def disable_tiling(self) -> None:
        self.spatial_vae.module.disable_tiling()

    # ------------------------------------------------------------------ helpers
    def _param(self) -> torch.Tensor:
        return next(self.parameters())

    @staticmethod
    def _noise(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        where = generator.device if generator is not None else "cpu"  # CPU unless given a device generator
        return torch.randn(like.shape, generator=generator, dtype=torch.float32, device=where).to(like.device, like.dtype)

    def _frames(self, frames: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor],
                progress: host.Progress) -> torch.Tensor:
        """Run ``fn`` over ``frames`` [N,...] in micro-batches, halving the batch on out-of-memory."""
        n = frames.shape[0]
        bs = self.micro_batch_size or n
        out, i = [], 0
        while i < n:
            chunk = frames[i:i + bs]
            try:
                out.append(fn(chunk))
            except Exception as e:  # noqa: BLE001 - only OOM is handled, everything else re-raised
                if not host.is_oom(e) or bs == 1:
                    raise
                host.soft_empty_cache()
                bs = max(1, bs // 2)
                log.warning("Open-Sora VAE: out of memory, retrying with micro-batch %d", bs)
                continue
            i += chunk.shape[0]
            progress.step(chunk.shape[0])
        return torch.cat(out, dim=0)

    # ------------------------------------------------------------------ encode / decode
    @torch.no_grad()
    def encode(self, x: torch.Tensor, sample: bool = True,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Video ``[B,3,T,H,W]`` in -1..1 (H, W multiples of 8) -> latents ``[B,4,T',H/8,W/8]``."""
        if x.ndim != 5 or x.shape[1] != 3:
            raise MotionComicError(f"the Open-Sora VAE encodes videos shaped [B,3,T,H,W]; got {tuple(x.shape)}")
        b, _, t, h, w = x.shape
        down = 2 ** (len(self.spatial_vae.module.config.block_out_channels) - 1)
        if h % down or w % down:
            raise MotionComicError(
                f"frame size {h}x{w} is not a multiple of {down}; use {h // down * down}x{w // down * down}"
                f" or {-(-h // down) * down}x{-(-w // down) * down}")
        p = self._param()
        n_chunks = -(-t // self.micro_frame_size)
        progress = host.Progress(b * t + n_chunks, "Open-Sora VAE encode")
        frames = x.to(p.device, p.dtype).permute(0, 2, 1, 3, 4).reshape(b * t, 3, h, w)
        vae2d = self.spatial_vae.module

        def spatial(chunk: torch.Tensor) -> torch.Tensor:
            dist = vae2d.encode(chunk).latent_dist
            z = dist.mean + dist.std * self._noise(dist.mean, generator) if sample else dist.mean
            return z * SPATIAL_SCALE

        xz = self._frames(frames, spatial, progress)
        xz = xz.reshape(b, t, *xz.shape[1:]).permute(0, 2, 1, 3, 4)
        zs = []
        for i in range(0, t, self.micro_frame_size):
            moments = self.temporal_vae.encode_moments(xz[:, :, i:i + self.micro_frame_size])
            mean, logvar = moments.chunk(2, dim=1)
            if sample:
                std = torch.exp(0.5 * logvar.clamp(-30.0, 20.0))
                mean = mean + std * self._noise(mean, generator)
            zs.append(mean)
            progress.step()
        z = torch.cat(zs, dim=2).float()
        return ((z - self.shift.float()) / self.scale.float()).to(x.device)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, num_frames: int) -> torch.Tensor:
        """Latents ``[B,4,T',h,w]`` -> video ``[B,3,num_frames,8h,8w]`` (float32, about -1..1).

        ``num_frames`` must be a count that encodes to ``T'`` latent frames (see ``get_latent_size``).
        """
        if z.ndim != 5 or z.shape[1] != self.temporal_vae.cfg.embed_dim:
            raise MotionComicError(
                f"Open-Sora VAE latents are [B,{self.temporal_vae.cfg.embed_dim},T,h,w]; got {tuple(z.shape)}")
        b, _, lt, lh, lw = z.shape
        if self.get_latent_size((num_frames, None, None))[0] != lt:
            valid = self.frames_for_latents(lt)
            hint = f"{valid[0]}..{valid[-1]}" if len(valid) > 1 else (str(valid[0]) if valid else "none")
            raise MotionComicError(
                f"{lt} latent frames cannot decode to {num_frames} frames; valid frame counts: {hint}")
        p = self._param()
        n_chunks = -(-lt // self.micro_z_frame_size)
        progress = host.Progress(n_chunks + b * num_frames, "Open-Sora VAE decode")
        zz = z.to(p.device).float() * self.scale.float() + self.shift.float()
        zz = zz.to(p.dtype)
        parts, remaining = [], num_frames
        for i in range(0, lt, self.micro_z_frame_size):
            n = min(self.micro_frame_size, remaining)
            parts.append(self.temporal_vae.decode(zz[:, :, i:i + self.micro_z_frame_size], num_frames=n))
            remaining -= self.micro_frame_size
            progress.step()
        xz = torch.cat(parts, dim=2)
        t = xz.shape[2]
        frames = xz.permute(0, 2, 1, 3, 4).reshape(b * t, xz.shape[1], lh, lw)
        vae2d = self.spatial_vae.module
        video = self._frames(frames, lambda c: vae2d.decode(c / SPATIAL_SCALE).sample, progress)
        video = video.reshape(b, t, *video.shape[1:]).permute(0, 2, 1, 3, 4)
        return video.float().to(z.device)


# ---------------------------------------------------------------------- loading
def spatial_config_from_shapes(shapes: dict[str, tuple[int, ...]], prefix: str = SPATIAL_PREFIX) -> dict:
    """``AutoencoderKL`` keyword arguments read from tensor shapes (GroupNorm groups: 32)."""
    p = prefix
    levels = sorted({int(k[len(p + "encoder.down_blocks."):].split(".")[0])
                     for k in shapes if k.startswith(p + "encoder.down_blocks.")})
    layers = len({k[len(p + "encoder.down_blocks.0.resnets."):].split(".")[0]
                  for k in shapes if k.startswith(p + "encoder.down_blocks.0.resnets.")})
    return dict(
        in_channels=shapes[p + "encoder.conv_in.weight"][1],
        out_channels=shapes[p + "decoder.conv_out.weight"][0],
        down_block_types=("DownEncoderBlock2D",) * len(levels),
        up_block_types=("UpDecoderBlock2D",) * len(levels),
        block_out_channels=tuple(shapes[f"{p}encoder.down_blocks.{i}.resnets.0.conv1.weight"][0] for i in levels),
        layers_per_block=layers,
        latent_channels=shapes[p + "decoder.conv_in.weight"][1],
        norm_num_groups=32,
        mid_block_add_attention=any(k.startswith(p + "encoder.mid_block.attentions.0.") for k in shapes),
        use_quant_conv=p + "quant_conv.weight" in shapes,
        use_post_quant_conv=p + "post_quant_conv.weight" in shapes,
    )


def _canonical(key: str) -> str:
    """Official key names from accepted variants (no ``module.`` under spatial_vae, legacy attention)."""
    if key.startswith("spatial_vae.") and not key.startswith(SPATIAL_PREFIX):
        key = SPATIAL_PREFIX + key[len("spatial_vae."):]
    if key.startswith(SPATIAL_PREFIX) and ".attentions." in key:
        for old, new in _LEGACY_ATTN.items():
            key = key.replace(old, new)
    return key


VAE_FOLDERS = ("opensora", "vae")


def list_vae_files() -> list[str]:
    """Checkpoint files under ``models/opensora/`` and ``models/vae/`` (candidates for the loader)."""
    from ..checkpoints import CHECKPOINT_EXT

    return sorted({f for kind in VAE_FOLDERS for f in host.list_files(kind, CHECKPOINT_EXT)})


def find_vae(name: str | os.PathLike) -> str:
    """Resolve ``name`` inside ``models/opensora/`` or ``models/vae/`` (``host.find_model``)."""
    return str(host.find_model(VAE_FOLDERS, name, WHERE_TO_GET, what="Open-Sora VAE"))


def load_opensora_vae(path: str | os.PathLike, dtype: torch.dtype = torch.float32, device=None,
                      micro_batch_size: int | None = 4) -> OpenSoraVAE:
    """Load an Open-Sora VAE v1.2 checkpoint (file or folder) into an :class:`OpenSoraVAE`.

    ``device`` None keeps the weights on the CPU. Raises :class:`CheckpointError` naming the missing
    half, or what the file looks like when it is another model.
    """
    name = os.path.basename(os.fspath(path).rstrip("/\\"))
    shapes = {_canonical(k): v for k, v in read_shapes(path).items()}
    has_s = any(k.startswith(SPATIAL_PREFIX) for k in shapes)
    has_t = any(k.startswith(TEMPORAL_PREFIX) for k in shapes)
    if not has_s and not has_t:
        raise CheckpointError(
            f"{name} is not an Open-Sora VAE v1.2: it looks like {describe_checkpoint(shapes)}. {WHERE_TO_GET}")
    if not (has_s and has_t):
        have, miss = ("spatial", "temporal") if has_s else ("temporal", "spatial")
        raise CheckpointError(
            f"{name} holds only the {have} half of the Open-Sora VAE v1.2; the {miss} half "
            f"({(TEMPORAL_PREFIX if has_s else 'spatial_vae.') + '*'} tensors) is missing. {WHERE_TO_GET}")
    try:
        spatial_cfg = spatial_config_from_shapes(shapes)
        temporal_cfg = infer_temporal_config(shapes)
    except (KeyError, IndexError, ZeroDivisionError) as e:
        raise CheckpointError(f"{name}: Open-Sora VAE tensors are incomplete (no {e}). {WHERE_TO_GET}") from e
    with torch.device("meta"):
        vae = OpenSoraVAE(spatial_cfg, temporal_cfg, micro_batch_size=micro_batch_size)
    c = temporal_cfg.embed_dim  # the scale/shift buffers were made on the CPU with upstream's values
    norm: dict[str, torch.Tensor] = {}

    def tensors():
        for k, t in iter_tensors(path):
            k = _canonical(k)
            if k in ("scale", "shift"):
                norm[k] = t.float().reshape(1, -1, 1, 1, 1)
                continue
            if k.startswith((SPATIAL_PREFIX, TEMPORAL_PREFIX)):
                yield k, t

    missing, unexpected = assign_tensors(vae, tensors(), dtype=dtype, device=device)
    missing = [k for k in missing if k not in ("scale", "shift")]
    if missing or unexpected:
        raise CheckpointError(
            f"{name} is an Open-Sora VAE of another variant: missing {len(missing)} tensors "
            f"({', '.join(missing[:4])}), unexpected {len(unexpected)} ({', '.join(unexpected[:4])}). {WHERE_TO_GET}")
    for k, t in norm.items():
        if t.shape[1] == c:
            vae.register_buffer(k, t)
    target = torch.device(device) if device is not None else torch.device("cpu")
    vae.scale, vae.shift = vae.scale.to(target), vae.shift.to(target)
    log.info("Open-Sora VAE loaded from %s (%s, %s)", name, dtype, target)
    return vae.eval()
