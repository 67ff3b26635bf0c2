"""Transformer pieces of STDiT3: q/k RMSNorm, self-attention (optional RoPE), caption
cross-attention, the GELU-tanh MLP and the final adaLN layer.

Parameter names follow Open-Sora 1.2 exactly (``qkv``, ``q_norm``, ``proj``, ``q_linear``,
``kv_linear``, ``fc1``/``fc2``, ``scale_shift_table``, ``linear``) so official checkpoints load
unchanged. Attention runs through ``torch.nn.functional.scaled_dot_product_attention``; the plain
matmul-softmax path (what upstream runs without flash-attn) is kept as a benchmark baseline.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: "sdpa" (default) or "matmul" (upstream's explicit softmax, fp32 scores); see ``set_attention``.
_ATTENTION = {"impl": "sdpa"}


def set_attention(impl: str) -> None:
    """Choose the attention kernel: ``"sdpa"`` or ``"matmul"`` (baseline for benchmarks)."""
    if impl not in ("sdpa", "matmul"):
        raise ValueError(f"attention implementation {impl!r}: use 'sdpa' or 'matmul'")
    _ATTENTION["impl"] = impl


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Softmax attention. ``q`` [B,h,N,d], ``k``/``v`` [B,h,M,d], ``key_mask`` bool [B,M] (True = attend)."""
    bias = None if key_mask is None else key_mask[:, None, None, :]
    if _ATTENTION["impl"] == "sdpa":
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    dtype = q.dtype
    scores = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
    scores = scores.float()
    if bias is not None:
        scores = scores.masked_fill(~bias, float("-inf"))
    return scores.softmax(dim=-1).to(dtype) @ v


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN modulation ``x * (1 + scale) + shift`` (PixArt's t2i form)."""
    return x * (1 + scale) + shift


def select_frames(x_mask: torch.Tensor, x: torch.Tensor, x_zero: torch.Tensor, T: int, S: int) -> torch.Tensor:
    """Per latent frame choose ``x`` (x_mask True: generated) or ``x_zero`` (conditioning frame).

    ``x``/``x_zero`` [B, T*S, C], ``x_mask`` bool [B, T].
    """
    B, _, C = x.shape
    keep = x_mask[:, :, None, None]
    out = torch.where(keep, x.view(B, T, S, C), x_zero.view(B, T, S, C))
    return out.view(B, T * S, C)


class RMSNorm(nn.Module):
    """RMS norm over the last dim in float32 (Llama/T5 style), weight applied in the input dtype."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


class Mlp(nn.Module):
    """fc1 -> GELU(tanh) -> fc2 (timm's ``Mlp`` layout)."""

    def __init__(self, in_features: int, hidden_features: int, out_features: int | None = None):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU(approximate="tanh")
        self.fc2 = nn.Linear(hidden_features, out_features or in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class SelfAttention(nn.Module):
    """Multi-head self-attention over [B, N, C] with q/k RMSNorm applied before the rotary embedding."""

    def __init__(self, dim: int, num_heads: int, qk_norm: bool = True, rope=None):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.q_norm = RMSNorm(self.head_dim) if qk_norm else nn.Identity()
        self.k_norm = RMSNorm(self.head_dim) if qk_norm else nn.Identity()
        self.proj = nn.Linear(dim, dim)
        # a callable (not a submodule): the RotaryEmbedding's parameters belong to the model root
        self._rope = [rope] if rope is not None else []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, C = x.shape
        q, k, v = self.qkv(x).view(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        q, k = self.q_norm(q), self.k_norm(k)
        if self._rope:
            q, k = self._rope[0](q), self._rope[0](k)
        out = attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(B, N, C))


class CrossAttention(nn.Module):
    """Video tokens attend to caption tokens; padded caption tokens are excluded by ``key_mask``."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.q_linear = nn.Linear(dim, dim)
        self.kv_linear = nn.Linear(dim, dim * 2)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
        """``x`` [B,N,C], ``cond`` [B,L,C], ``key_mask`` bool [B,L] or None."""
        B, N, C = x.shape
        L = cond.shape[1]
        q = self.q_linear(x).view(B, N, self.num_heads, self.head_dim).transpose(1, 2)
        k, v = self.kv_linear(cond).view(B, L, 2, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        out = attention(q, k, v, key_mask)
        return self.proj(out.transpose(1, 2).reshape(B, N, C))


class FinalLayer(nn.Module):
    """LayerNorm (no affine) -> adaLN from ``scale_shift_table[2,C] + t`` -> linear to patch pixels."""

    def __init__(self, hidden_size: int, num_patch: int, out_channels: int):
        super().__init__()
        self.norm_final = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(hidden_size, num_patch * out_channels, bias=True)
        self.scale_shift_table = nn.Parameter(torch.zeros(2, hidden_size))

    def forward(self, x, t, x_mask=None, t0=None, T: int = 0, S: int = 0):
        """``x`` [B,N,C], ``t``/``t0`` [B,C] (plain embedding, not the 6x block one)."""
        shift, scale = (self.scale_shift_table[None] + t[:, None]).chunk(2, dim=1)
        out = modulate(self.norm_final(x), shift, scale)
        if x_mask is not None:
            shift0, scale0 = (self.scale_shift_table[None] + t0[:, None]).chunk(2, dim=1)
            # Upstream normalises the already-modulated tokens for the conditioning frames (it
            # reassigns x before computing the t0 branch). Trained checkpoints expect exactly that.
            out = select_frames(x_mask, out, modulate(self.norm_final(out), shift0, scale0), T, S)
        return self.linear(out)
