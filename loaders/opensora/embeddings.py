"""Input embeddings of STDiT3: 3D patches, timestep / fps frequencies, caption projection, the 2D
sin-cos position grid and the temporal rotary embedding.

Names and shapes match Open-Sora 1.2 (``x_embedder.proj``, ``t_embedder.mlp.{0,2}``,
``fps_embedder.mlp.{0,2}``, ``y_embedder.y_proj.fc{1,2}``, ``y_embedder.y_embedding``,
``rope.freqs``).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .layers import Mlp


class PatchEmbed3D(nn.Module):
    """[B,C,T,H,W] -> [B, T'*H'*W', hidden] (right-pads T/H/W to patch multiples; tokens ordered T,H,W)."""

    def __init__(self, patch_size: tuple[int, int, int], in_chans: int, embed_dim: int):
        super().__init__()
        self.patch_size = tuple(patch_size)
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=self.patch_size, stride=self.patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pt, ph, pw = self.patch_size
        _, _, T, H, W = x.shape
        pad = (0, (-W) % pw, 0, (-H) % ph, 0, (-T) % pt)
        if any(pad):
            x = F.pad(x, pad)
        return self.proj(x).flatten(2).transpose(1, 2)


def frequency_embedding(t: torch.Tensor, dim: int = 256, max_period: float = 10000.0) -> torch.Tensor:
    """[N] scalars -> [N, dim] float32 ``[cos, sin]`` embedding (GLIDE/DiT)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half).to(t.device)
    args = t[:, None].float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class TimestepEmbedder(nn.Module):
    """Scalar (diffusion timestep or fps) -> hidden vector via frequencies + Linear-SiLU-Linear."""

    def __init__(self, hidden_size: int, frequency_embedding_size: int = 256):
        super().__init__()
        self.frequency_embedding_size = frequency_embedding_size
        self.mlp = nn.Sequential(
            nn.Linear(frequency_embedding_size, hidden_size, bias=True),
            nn.SiLU(),
            nn.Linear(hidden_size, hidden_size, bias=True),
        )

    def forward(self, t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """``t`` [N] -> [N, hidden] (frequencies cast to ``dtype`` before the MLP)."""
        return self.mlp(frequency_embedding(t, self.frequency_embedding_size).to(dtype))


class SizeEmbedder(TimestepEmbedder):
    """Embeds per-sample scalars such as fps: [B] or [B,1] -> [B, hidden] in the MLP's dtype."""

    def forward(self, s: torch.Tensor, batch: int) -> torch.Tensor:  # type: ignore[override]
        if s.ndim == 1:
            s = s[:, None]
        if s.shape[0] != batch:
            s = s.repeat(batch // s.shape[0], 1)
        b, dims = s.shape
        emb = self.mlp(frequency_embedding(s.reshape(-1), self.frequency_embedding_size).to(self.mlp[0].weight.dtype))
        return emb.view(b, dims * emb.shape[-1])


class CaptionEmbedder(nn.Module):
    """Caption features [B,1,L,Cc] -> [B,1,L,hidden]; ``y_embedding`` is the learned null caption."""

    def __init__(self, in_channels: int, hidden_size: int, token_num: int):
        super().__init__()
        self.y_proj = Mlp(in_channels, hidden_size, hidden_size)
        self.register_buffer("y_embedding", torch.zeros(token_num, in_channels))

    def forward(self, caption: torch.Tensor) -> torch.Tensor:
        return self.y_proj(caption)


def sincos_grid_2d(h: int, w: int, dim: int, scale: float, base_size: int | None,
                   device=None, dtype=torch.float32) -> torch.Tensor:
    """[1, h*w, dim] position table for an h x w patch grid (row-major: H outer, W inner).

    The first half of the channels encodes the column (W) coordinate, the second half the row (H);
    each half is ``[sin, cos]`` of the coordinate times ``1/10000^(2i/(dim/2))``. Coordinates are
    ``arange(n) / scale * base_size / n`` so that sizes near the training resolution share a range.
    """
    half = dim // 2
    inv_freq = 1.0 / (10000 ** (torch.arange(0, half, 2, device=device).float() / half))
    rows = torch.arange(h, device=device) / scale
    cols = torch.arange(w, device=device) / scale
    if base_size is not None:
        rows = rows * (base_size / h)
        cols = cols * (base_size / w)
    col_pos = cols[None, :].expand(h, w).reshape(-1)
    row_pos = rows[:, None].expand(h, w).reshape(-1)

    def enc(p):
        a = torch.einsum("i,d->id", p, inv_freq)
        return torch.cat([torch.sin(a), torch.cos(a)], dim=-1)

    return torch.cat([enc(col_pos), enc(row_pos)], dim=-1)[None].to(dtype)


class RotaryEmbedding(nn.Module):
    """Rotary position embedding for temporal attention (interleaved pairs, theta 1e4).

    ``freqs`` is a (frozen) parameter as in ``rotary_embedding_torch`` so checkpoints carry it and
    the angles are computed in the model dtype, as upstream does.
    """

    def __init__(self, dim: int, theta: float = 10000.0):
        super().__init__()
        freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: dim // 2].float() / dim))
        self.freqs = nn.Parameter(freqs, requires_grad=False)

    def rotate(self, t: torch.Tensor) -> torch.Tensor:
        """Rotate ``t`` [..., N, d] by position along the second-to-last dim."""
        n = t.shape[-2]
        pos = torch.arange(n, device=t.device, dtype=t.dtype)
        angles = torch.einsum("n,f->nf", pos.to(self.freqs.dtype), self.freqs)
        angles = angles.repeat_interleave(2, dim=-1)
        d = angles.shape[-1]
        cos, sin = angles.cos().to(t), angles.sin().to(t)
        rot, rest = t[..., :d], t[..., d:]
        pairs = rot.unflatten(-1, (-1, 2))
        half_turn = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)
        out = rot * cos + half_turn * sin
        return torch.cat((out, rest), dim=-1).to(t.dtype) if rest.numel() else out.to(t.dtype)
