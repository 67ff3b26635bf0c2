"""The temporal half of the Open-Sora 1.2 video VAE: a causal 3D-conv VAE over spatial latents.

It compresses the 4-channel latents of the per-frame ``AutoencoderKL`` by 4x in time (MAGVIT-style
causal 3D convolutions, GroupNorm, SiLU). Parameter names and shapes follow upstream's
``VAE_Temporal`` exactly (``encoder.conv_in.conv.weight``, ``encoder.block_res_blocks.{i}.{j}.*``,
``encoder.conv_blocks.{i}.conv.*``, ``quant_conv.conv.*``, ``post_quant_conv.conv.*``,
``decoder.*``), so the ``temporal_vae.*`` tensors of the official file load unchanged.

Shapes: ``encode_moments(x [B,C,T,h,w]) -> [B,2·E,T',h,w]`` with ``T' = ceil(T/4)`` (the clip is
zero-padded at the *front* to a multiple of 4); ``decode(z [B,E,T',h,w], num_frames) ->
[B,C,num_frames,h,w]`` (the decoder yields ``4·T'`` frames and the front padding is cut off).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TemporalVAEConfig:
    """Hyper-parameters of the temporal VAE; the defaults are upstream's ``VAE_Temporal_SD``."""

    in_out_channels: int = 4
    latent_embed_dim: int = 4
    embed_dim: int = 4
    filters: int = 128
    num_res_blocks: int = 4
    channel_multipliers: tuple[int, ...] = (1, 2, 2, 4)
    temporal_downsample: tuple[bool, ...] = (False, True, True)
    num_groups: int = 32

    @property
    def time_factor(self) -> int:
        """Frames per latent frame (4 for the official model)."""
        return 2 ** sum(bool(d) for d in self.temporal_downsample)


def front_padding(num_frames: int, factor: int) -> int:
    """Zero frames put in front of a clip so its length is a multiple of ``factor``."""
    return (factor - num_frames % factor) % factor


def latent_frames(num_frames: int, factor: int = 4) -> int:
    """Latent frames the temporal VAE makes from ``num_frames`` frames (``ceil(T/factor)``)."""
    return (num_frames + front_padding(num_frames, factor)) // factor


class CausalConv3d(nn.Module):
    """3D convolution padded only towards the past in time (zeros), centred in space.

    With a temporal stride ``s`` the past padding is ``k_t - s``, so a stride-2 conv halves an even
    length exactly.
    """

    def __init__(self, chan_in: int, chan_out: int, kernel_size, stride=(1, 1, 1), bias: bool = True):
        super().__init__()
        kt, kh, kw = (kernel_size,) * 3 if isinstance(kernel_size, int) else tuple(kernel_size)
        if kh % 2 == 0 or kw % 2 == 0:
            raise ValueError("CausalConv3d needs odd spatial kernel sizes")
        self.time_pad = (kt - 1) + (1 - stride[0])
        self.padding = (kw // 2, kw // 2, kh // 2, kh // 2, self.time_pad, 0)
        self.conv = nn.Conv3d(chan_in, chan_out, (kt, kh, kw), stride=tuple(stride), bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, self.padding))


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice plus a residual (1x1x1 conv when the width changes, no biases)."""

    def __init__(self, in_channels: int, filters: int, num_groups: int):
        super().__init__()
        self.in_channels, self.filters = in_channels, filters
        self.norm1 = nn.GroupNorm(num_groups, in_channels)
        self.conv1 = CausalConv3d(in_channels, filters, 3, bias=False)
        self.norm2 = nn.GroupNorm(num_groups, filters)
        self.conv2 = CausalConv3d(filters, filters, 3, bias=False)
        if in_channels != filters:
            self.conv3 = CausalConv3d(in_channels, filters, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (self.conv3(x) if self.in_channels != self.filters else x)


class TemporalEncoder(nn.Module):
    """conv_in → per level: res blocks (+ stride-2 temporal conv) → res blocks → norm → 1x1x1 conv."""

    def __init__(self, cfg: TemporalVAEConfig):
        super().__init__()
        g, mults = cfg.num_groups, cfg.channel_multipliers
        self.conv_in = CausalConv3d(cfg.in_out_channels, cfg.filters, 3, bias=False)
        self.block_res_blocks = nn.ModuleList()
        self.conv_blocks = nn.ModuleList()
        prev = cfg.filters
        for i, m in enumerate(mults):
            width = cfg.filters * m
            level = nn.ModuleList()
            for _ in range(cfg.num_res_blocks):
                level.append(ResBlock(prev, width, g))
                prev = width
            self.block_res_blocks.append(level)
            if i < len(mults) - 1:
                # Levels without temporal downsampling hold a parameter-free placeholder, so the
                # indices (and key names) of the following conv blocks stay as upstream's.
                down = cfg.temporal_downsample[i]
                self.conv_blocks.append(CausalConv3d(prev, width, 3, stride=(2, 1, 1)) if down else nn.Identity())
        self.res_blocks = nn.ModuleList(ResBlock(prev, prev, g) for _ in range(cfg.num_res_blocks))
        self.norm1 = nn.GroupNorm(g, prev)
        self.conv2 = CausalConv3d(prev, 2 * cfg.latent_embed_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_in(x)
        for i, level in enumerate(self.block_res_blocks):
            for block in level:
                x = block(x)
            if i < len(self.conv_blocks):
                x = self.conv_blocks[i](x)
        for block in self.res_blocks:
            x = block(x)
        return self.conv2(F.silu(self.norm1(x)))


class TemporalDecoder(nn.Module):
    """Mirror of the encoder; temporal upsampling is a causal conv to 2x channels + depth-to-time."""

    def __init__(self, cfg: TemporalVAEConfig):
        super().__init__()
        g, mults = cfg.num_groups, cfg.channel_multipliers
        self.temporal_downsample = tuple(bool(d) for d in cfg.temporal_downsample)
        prev = cfg.filters * mults[-1]
        self.conv1 = CausalConv3d(cfg.latent_embed_dim, prev, 3)
        self.res_blocks = nn.ModuleList(ResBlock(prev, prev, g) for _ in range(cfg.num_res_blocks))
        levels: list[nn.ModuleList] = []
        ups: list[nn.Module] = []
        for i in reversed(range(len(mults))):
            width = cfg.filters * mults[i]
            level = nn.ModuleList()
            for _ in range(cfg.num_res_blocks):
                level.append(ResBlock(prev, width, g))
                prev = width
            levels.insert(0, level)
            if i > 0:
                up = self.temporal_downsample[i - 1]
                ups.insert(0, CausalConv3d(prev, prev * 2, 3) if up else nn.Identity())
        self.block_res_blocks = nn.ModuleList(levels)
        self.conv_blocks = nn.ModuleList(ups)
        self.norm1 = nn.GroupNorm(g, prev)
        self.conv_out = CausalConv3d(prev, cfg.in_out_channels, 3)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.conv1(z)
        for block in self.res_blocks:
            x = block(x)
        for i in reversed(range(len(self.block_res_blocks))):
            for block in self.block_res_blocks[i]:
                x = block(x)
            if i > 0:
                x = self.conv_blocks[i - 1](x)
                if self.temporal_downsample[i - 1]:
                    # channels (C, t) -> C channels with t interleaved in time: [B,2C,T] -> [B,C,2T]
                    b, c2, t, h, w = x.shape
                    x = x.reshape(b, c2 // 2, 2, t, h, w).permute(0, 1, 3, 2, 4, 5).reshape(b, c2 // 2, 2 * t, h, w)
        return self.conv_out(F.silu(self.norm1(x)))


class TemporalVAE(nn.Module):
    """Causal temporal VAE (upstream ``VAE_Temporal``); see the module docstring for shapes."""

    def __init__(self, cfg: TemporalVAEConfig = TemporalVAEConfig()):
        super().__init__()
        self.cfg = cfg
        self.encoder = TemporalEncoder(cfg)
        self.quant_conv = CausalConv3d(2 * cfg.latent_embed_dim, 2 * cfg.embed_dim, 1)
        self.post_quant_conv = CausalConv3d(cfg.embed_dim, cfg.latent_embed_dim, 1)
        self.decoder = TemporalDecoder(cfg)

    @property
    def time_factor(self) -> int:
        return self.cfg.time_factor

    def encode_moments(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior mean and log-variance ``[B,2E,T',h,w]`` (concatenated on channels)."""
        pad = front_padding(x.shape[2], self.time_factor)
        if pad:
            x = F.pad(x, (0, 0, 0, 0, pad, 0))
        return self.quant_conv(self.encoder(x)).to(x.dtype)

    def decode(self, z: torch.Tensor, num_frames: int) -> torch.Tensor:
        """``[B,E,T',h,w] -> [B,C,4T'-pad,h,w]`` where pad is the encoder's front padding."""
        x = self.decoder(self.post_quant_conv(z))
        return x[:, :, front_padding(num_frames, self.time_factor):]


def infer_temporal_config(shapes: dict[str, tuple[int, ...]], prefix: str = "temporal_vae.") -> TemporalVAEConfig:
    """Rebuild the config from tensor shapes (name -> shape, keys under ``prefix``).

    GroupNorm's group count cannot be seen in shapes; it is 32 in every released model.
    """
    p = prefix
    conv_in = shapes[p + "encoder.conv_in.conv.weight"]
    filters, channels = conv_in[0], conv_in[1]
    levels = sorted({int(k[len(p + "encoder.block_res_blocks."):].split(".")[0])
                     for k in shapes if k.startswith(p + "encoder.block_res_blocks.")})
    num_res = len({k[len(p + "encoder.block_res_blocks.0."):].split(".")[0]
                   for k in shapes if k.startswith(p + "encoder.block_res_blocks.0.")})
    mults = tuple(shapes[f"{p}encoder.block_res_blocks.{i}.0.conv1.conv.weight"][0] // filters for i in levels)
    down = tuple(f"{p}encoder.conv_blocks.{i}.conv.weight" in shapes for i in levels[:-1])
    latent_embed = shapes[p + "encoder.conv2.conv.weight"][0] // 2
    embed = shapes[p + "quant_conv.conv.weight"][0] // 2
    return TemporalVAEConfig(in_out_channels=channels, latent_embed_dim=latent_embed, embed_dim=embed,
                             filters=filters, num_res_blocks=num_res, channel_multipliers=mults,
                             temporal_downsample=down)
