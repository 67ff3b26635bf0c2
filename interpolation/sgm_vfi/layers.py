"""Small building blocks shared by the SGM-VFI modules: conv+PReLU, backward warping, sine
position encoding, pixel coordinate grids."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def conv_prelu(cin: int, cout: int, kernel: int = 3, stride: int = 1, padding: int = 1) -> nn.Sequential:
    """``Conv2d`` followed by a per-channel ``PReLU`` (checkpoint keys ``.0.*`` and ``.1.weight``)."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, padding, bias=True), nn.PReLU(cout))


def deconv_prelu(cin: int, cout: int) -> nn.Sequential:
    """2x upsampling ``ConvTranspose2d(4, 2, 1)`` followed by ``PReLU``."""
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=True), nn.PReLU(cout))


def resize(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Bilinear resize by ``scale`` (``align_corners=False``), as every stage of the network does."""
    return F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)


def backward_warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``image`` at ``pixel + flow`` (bilinear, border padding).

    Args:
        image: ``[N, C, H, W]``.
        flow: ``[N, 2, H, W]`` in pixels.
    """
    # Coordinates in float32 whatever the model dtype: half precision cannot address pixels of a
    # 1280-wide frame in normalised [-1, 1] units.
    n, _, h, w = flow.shape
    flow = flow.float()
    gx = torch.linspace(-1.0, 1.0, w, device=flow.device).view(1, 1, 1, w).expand(n, 1, h, w)
    gy = torch.linspace(-1.0, 1.0, h, device=flow.device).view(1, 1, h, 1).expand(n, 1, h, w)
    grid = torch.cat([gx, gy], 1)
    norm = torch.cat([flow[:, 0:1] / ((image.shape[3] - 1.0) / 2.0), flow[:, 1:2] / ((image.shape[2] - 1.0) / 2.0)], 1)
    g = (grid + norm).permute(0, 2, 3, 1)
    out = F.grid_sample(image.float(), g, mode="bilinear", padding_mode="border", align_corners=True)
    return out.to(image.dtype)


def sine_position(channels: int, height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """DETR-style normalised 2-D sine encoding, ``[1, 2*channels, H, W]`` (y half first, then x).

    Computed in float32 like the original, then cast to ``dtype``.
    """
    eps, scale, temperature = 1e-6, 2 * math.pi, 10000
    y = torch.arange(1, height + 1, dtype=torch.float32, device=device).view(1, height, 1).expand(1, height, width)
    x = torch.arange(1, width + 1, dtype=torch.float32, device=device).view(1, 1, width).expand(1, height, width)
    y = y / (y[:, -1:, :] + eps) * scale
    x = x / (x[:, :, -1:] + eps) * scale
    k = torch.arange(channels, dtype=torch.float32, device=device)
    freq = temperature ** (2 * torch.div(k, 2, rounding_mode="floor") / channels)

    def encode(p: torch.Tensor) -> torch.Tensor:
        a = p[..., None] / freq
        return torch.stack((a[..., 0::2].sin(), a[..., 1::2].cos()), dim=4).flatten(3)

    return torch.cat((encode(y), encode(x)), dim=3).permute(0, 3, 1, 2).to(dtype)


def pixel_grid(batch: int, height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """``[B, 2, H, W]`` pixel coordinates (x then y)."""
    ys, xs = torch.meshgrid(torch.arange(height, device=device), torch.arange(width, device=device), indexing="ij")
    return torch.stack([xs, ys], 0).to(dtype)[None].expand(batch, 2, height, width)


def global_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, chunk_elems: int = 1 << 24) -> torch.Tensor:
    """``softmax(q k^T / sqrt(C)) v`` over all keys, in query chunks.

    Same arithmetic as the explicit formula upstream uses (each query row is independent), but
    the ``[L_q, L_k]`` score matrix never exceeds ``chunk_elems`` entries per batch element, so
    720p frames (14,400 tokens at 1/8 scale) stay within a few hundred MB.

    Args:
        q: ``[B, Lq, C]``; k: ``[B, Lk, C]``; v: ``[B, Lk, D]``.
    Returns:
        ``[B, Lq, D]``.
    """
    scale = q.shape[-1] ** 0.5
    kt = k.transpose(1, 2)
    rows = max(1, chunk_elems // max(1, k.shape[1]))
    if rows >= q.shape[1]:
        return torch.matmul(torch.softmax(torch.matmul(q, kt) / scale, dim=-1), v)
    out = [torch.matmul(torch.softmax(torch.matmul(part, kt) / scale, dim=-1), v) for part in q.split(rows, dim=1)]
    return torch.cat(out, 1)
