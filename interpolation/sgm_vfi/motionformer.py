"""The local-branch feature extractor (EMA-VFI's MotionFormer as SGM-VFI configures it).

Three convolutional stages (full, 1/2, 1/4 resolution) and one stage of inter-frame window
attention at 1/8 resolution. Both frames go through as one batch ``[2B, ...]``; in the attention
stage each window of frame 0 attends to the same window of frame 1 and vice versa. Windows are
7x7, every second block is shifted by 3 (Swin), features are centre-padded to whole windows and
the padding is masked out.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .layers import sine_position


def _to_windows(x: torch.Tensor, ws: int) -> torch.Tensor:
    """``[B, H, W, C]`` -> ``[B * nWin, ws*ws, C]`` (row-major windows per image)."""
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws * ws, c)


def _from_windows(win: torch.Tensor, ws: int, h: int, w: int) -> torch.Tensor:
    """Inverse of :func:`_to_windows` for images of ``h x w``."""
    c = win.shape[-1]
    b = win.shape[0] // ((h // ws) * (w // ws))
    x = win.view(b, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h, w, c)


def _region_mask(labels: torch.Tensor, ws: int) -> torch.Tensor:
    """Window attention bias: 0 between tokens of the same labelled region, -100 across regions."""
    win = _to_windows(labels, ws).squeeze(-1)  # [nWin, ws*ws]
    diff = win.unsqueeze(1) - win.unsqueeze(2)
    return torch.where(diff != 0, torch.full_like(diff, -100.0), torch.zeros_like(diff))


def _label(h: int, w: int, rows, cols) -> torch.Tensor:
    labels = torch.zeros(1, h, w, 1)
    for i, rs in enumerate(rows):
        for j, cs in enumerate(cols):
            labels[:, rs, cs, :] = i * len(cols) + j
    return labels


def _window_masks(h: int, w: int, ws: int, shift: int):
    """Padding amounts and the attention bias for an ``h x w`` map (``None`` if no masking needed)."""
    ph, pw = math.ceil(h / ws) * ws - h, math.ceil(w / ws) * ws - w
    hp, wp = h + ph, w + pw
    mask = None
    if ph or pw:  # centre padding: tokens from pad bands must not mix with the image
        rows = (slice(0, ph // 2), slice(ph // 2, h + ph // 2), slice(h + ph // 2, None))
        cols = (slice(0, pw // 2), slice(pw // 2, w + pw // 2), slice(w + pw // 2, None))
        mask = _region_mask(_label(hp, wp, rows, cols), ws)
    if shift:  # rolled windows: tokens that wrapped around must not mix
        rows = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
        cols = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
        shifted = _region_mask(_label(hp, wp, rows, cols), ws)
        mask = shifted if mask is None else shifted.masked_fill(mask != 0, -100.0)
    return (ph, pw), mask


class InterFrameAttention(nn.Module):
    """Multi-head attention from the windows of one frame to the same windows of the other."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, dim * 2, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, n, c = x1.shape
        hd = c // self.num_heads
        q = self.q(x1).reshape(b, n, self.num_heads, hd).permute(0, 2, 1, 3)
        kv = self.kv(x2).reshape(b, -1, 2, self.num_heads, hd).permute(2, 0, 3, 1, 4)
        attn = (q @ kv[0].transpose(-2, -1)) * self.scale
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(b // nw, nw, self.num_heads, n, n) + mask.to(attn.dtype)[None, :, None]
            attn = attn.view(-1, self.num_heads, n, n)
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ kv[1]).transpose(1, 2).reshape(b, n, c))


class DWConv(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, bias=True, groups=dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        b, n, c = x.shape
        x = self.dwconv(x.transpose(1, 2).reshape(b, c, h, w))
        return x.reshape(b, c, -1).transpose(1, 2)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = DWConv(hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        return self.fc2(F.gelu(self.dwconv(self.fc1(x), h, w)))


class MotionFormerBlock(nn.Module):
    def __init__(self, dim: int, num_heads: int, window: int, shift: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = InterFrameAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self._masks: dict = {}  # (h, w) -> (padding, attention bias); cleared by release()

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """``x``: ``[2B, h*w, C]`` tokens of frame 0 then frame 1."""
        ws, s = self.window, self.shift
        two_b, _, c = x.shape
        if (h, w) not in self._masks:  # keep only the current size: memory stays flat over a clip
            self._masks.clear()
            self._masks[(h, w)] = _window_masks(h, w, ws, s)
        (ph, pw), mask = self._masks[(h, w)]
        if mask is not None:
            mask = mask.to(x.device)
        xp = F.pad(x.view(two_b, h, w, c), (0, 0, pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        if s:
            xp = torch.roll(xp, shifts=(-s, -s), dims=(1, 2))
        hp, wp = xp.shape[1], xp.shape[2]
        win = self.norm1(_to_windows(xp, ws))
        nwin = win.shape[0]
        pos = sine_position(c // 2, ws, ws, device=x.device, dtype=win.dtype)
        win = win + pos.permute(0, 2, 3, 1).reshape(1, ws * ws, c)
        other = torch.cat([win[nwin // 2:], win[: nwin // 2]])  # the same window in the other frame
        # The residual is taken on the normalised, position-encoded tokens (as upstream does).
        win = win + self.attn(win, other, mask)
        y = _from_windows(win, ws, hp, wp)
        if s:
            y = torch.roll(y, shifts=(s, s), dims=(1, 2))
        y = y[:, ph // 2: ph // 2 + h, pw // 2: pw // 2 + w, :].reshape(two_b, h * w, c)
        return y + self.mlp(self.norm2(y), h, w)


class OverlapPatchEmbed(nn.Module):
    def __init__(self, cin: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, 3, 2, 1)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor):
        x = self.proj(x)
        _, _, h, w = x.shape
        return self.norm(x.flatten(2).transpose(1, 2)), h, w


class ConvBlock(nn.Module):
    def __init__(self, cin: int, cout: int, depth: int):
        super().__init__()
        layers = []
        for i in range(depth):
            layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, 1, 1), nn.PReLU(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class MotionFormer(nn.Module):
    """Feature pyramid of both frames.

    Args:
        dims: channels per stage, ``[F, 2F, 4F, 8F]``.
        depths: blocks per stage, e.g. ``[2, 2, 2, 4]``.
        num_heads: heads of the attention stage (``8F // 32``).
    """

    def __init__(self, dims, depths, num_heads: int, window: int = 7, mlp_ratio: float = 4.0):
        super().__init__()
        self.block1 = ConvBlock(3, dims[0], depths[0])
        for i in (1, 2):
            setattr(self, f"patch_embed{i + 1}", nn.Sequential(nn.Conv2d(dims[i - 1], dims[i], 3, 2, 1), nn.PReLU(dims[i])))
            setattr(self, f"block{i + 1}", ConvBlock(dims[i], dims[i], depths[i]))
        self.patch_embed4 = OverlapPatchEmbed(dims[2], dims[3])
        self.block4 = nn.ModuleList(
            MotionFormerBlock(dims[3], num_heads, window, 0 if j % 2 == 0 else window // 2, mlp_ratio)
            for j in range(depths[3])
        )
        self.norm4 = nn.LayerNorm(dims[3], eps=1e-6)

    def forward(self, img0: torch.Tensor, img1: torch.Tensor) -> list[torch.Tensor]:
        """``img0``, ``img1``: ``[B, 3, H, W]``. Returns 4 maps ``[2B, C_i, H/2^i, W/2^i]``
        (frame 0 batch first)."""
        x = self.block1(torch.cat([img0, img1], 0))
        feats = [x]
        for i in (2, 3):
            x = getattr(self, f"block{i}")(getattr(self, f"patch_embed{i}")(x))
            feats.append(x)
        x, h, w = self.patch_embed4(x)
        for blk in self.block4:
            x = blk(x, h, w)
        x = self.norm4(x)
        feats.append(x.reshape(x.shape[0], h, w, -1).permute(0, 3, 1, 2).contiguous())
        return feats

    def release(self) -> None:
        for blk in self.block4:
            blk._masks.clear()
