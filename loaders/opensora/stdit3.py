"""STDiT3, the spatial-temporal diffusion transformer of Open-Sora 1.2, in plain torch.

A faithful re-implementation: parameter names and shapes equal upstream's (973 tensors for
XL/2), and ``forward(x, timestep, y, mask, x_mask, fps, height, width)`` takes and returns what
upstream's does, so official checkpoints load unchanged and outputs compare one to one.

Shapes: ``x`` [B, C_in, T, H, W] latents; ``timestep`` [B] in 0..1000; ``y`` [B, 1, L, C_cap]
caption features (T5); ``mask`` [B', L] caption padding mask (1 = real token; B' may divide B,
e.g. the prompt's mask reused for the null caption); ``x_mask`` [B, T] bool (True = frame to
generate, False = conditioning frame using timestep-0 modulation); ``fps``, ``height``, ``width``
[B] tensors. Returns [B, C_out, T, H, W] float32 (velocity = first C_in channels when
``pred_sigma``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .embeddings import CaptionEmbedder, PatchEmbed3D, RotaryEmbedding, SizeEmbedder, TimestepEmbedder, sincos_grid_2d
from .layers import CrossAttention, FinalLayer, Mlp, SelfAttention, modulate, select_frames


@dataclass
class STDiT3Config:
    """Architecture hyper-parameters (defaults: STDiT3-XL/2)."""

    hidden_size: int = 1152
    depth: int = 28
    num_heads: int = 16
    patch_size: tuple[int, int, int] = (1, 2, 2)
    in_channels: int = 4
    pred_sigma: bool = True
    mlp_ratio: float = 4.0
    caption_channels: int = 4096
    model_max_length: int = 300
    qk_norm: bool = True
    input_sq_size: int = 512
    extra: dict = field(default_factory=dict)

    @property
    def out_channels(self) -> int:
        return self.in_channels * 2 if self.pred_sigma else self.in_channels

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("extra")
        return d


class STDiT3Block(nn.Module):
    """One spatial (attention over the S patches of a frame) or temporal (over the T frames of a
    patch, with RoPE) block: adaLN self-attention, caption cross-attention, adaLN MLP."""

    def __init__(self, hidden_size: int, num_heads: int, mlp_ratio: float, qk_norm: bool,
                 temporal: bool = False, rope=None):
        super().__init__()
        self.temporal = temporal
        self.norm1 = nn.LayerNorm(hidden_size, eps=1e-6, elementwise_affine=False)
        self.attn = SelfAttention(hidden_size, num_heads, qk_norm=qk_norm, rope=rope)
        self.cross_attn = CrossAttention(hidden_size, num_heads)
        self.norm2 = nn.LayerNorm(hidden_size, eps=1e-6, elementwise_affine=False)
        self.mlp = Mlp(hidden_size, int(hidden_size * mlp_ratio))
        self.scale_shift_table = nn.Parameter(torch.zeros(6, hidden_size))

    def forward(self, x, y, t, key_mask=None, x_mask=None, t0=None, T: int = 0, S: int = 0):
        """``x`` [B, T*S, C]; ``y`` [B, L, C]; ``t``/``t0`` [B, 6C]; ``key_mask`` bool [B, L]."""
        B, N, C = x.shape
        mod = (self.scale_shift_table[None] + t.reshape(B, 6, -1)).chunk(6, dim=1)
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = mod
        if x_mask is not None:
            mod0 = (self.scale_shift_table[None] + t0.reshape(B, 6, -1)).chunk(6, dim=1)
            shift_msa0, scale_msa0, gate_msa0, shift_mlp0, scale_mlp0, gate_mlp0 = mod0

        h = self.norm1(x)
        h_m = modulate(h, shift_msa, scale_msa)
        if x_mask is not None:
            h_m = select_frames(x_mask, h_m, modulate(h, shift_msa0, scale_msa0), T, S)
        if self.temporal:  # sequences along time, one per spatial patch
            seq = h_m.view(B, T, S, C).transpose(1, 2).reshape(B * S, T, C)
            att = self.attn(seq).view(B, S, T, C).transpose(1, 2).reshape(B, N, C)
        else:  # sequences along space, one per frame
            att = self.attn(h_m.reshape(B * T, S, C)).view(B, N, C)
        gated = gate_msa * att
        if x_mask is not None:
            gated = select_frames(x_mask, gated, gate_msa0 * att, T, S)
        x = x + gated

        x = x + self.cross_attn(x, y, key_mask)

        h = self.norm2(x)
        h_m = modulate(h, shift_mlp, scale_mlp)
        if x_mask is not None:
            h_m = select_frames(x_mask, h_m, modulate(h, shift_mlp0, scale_mlp0), T, S)
        out = self.mlp(h_m)
        gated = gate_mlp * out
        if x_mask is not None:
            gated = select_frames(x_mask, gated, gate_mlp0 * out, T, S)
        return x + gated


class STDiT3(nn.Module):
    """The ST-DiT v3 denoiser (see module docstring for the forward contract)."""

    def __init__(self, config: STDiT3Config):
        super().__init__()
        c = self.config = config
        self.patch_size = tuple(c.patch_size)
        self.in_channels = c.in_channels
        self.out_channels = c.out_channels
        self.hidden_size = c.hidden_size
        self.num_heads = c.num_heads
        self.rope = RotaryEmbedding(c.hidden_size // c.num_heads)
        self.x_embedder = PatchEmbed3D(self.patch_size, c.in_channels, c.hidden_size)
        self.t_embedder = TimestepEmbedder(c.hidden_size)
        self.fps_embedder = SizeEmbedder(c.hidden_size)
        self.t_block = nn.Sequential(nn.SiLU(), nn.Linear(c.hidden_size, 6 * c.hidden_size, bias=True))
        self.y_embedder = CaptionEmbedder(c.caption_channels, c.hidden_size, c.model_max_length)
        block = dict(hidden_size=c.hidden_size, num_heads=c.num_heads, mlp_ratio=c.mlp_ratio, qk_norm=c.qk_norm)
        self.spatial_blocks = nn.ModuleList([STDiT3Block(**block) for _ in range(c.depth)])
        self.temporal_blocks = nn.ModuleList(
            [STDiT3Block(**block, temporal=True, rope=self.rope.rotate) for _ in range(c.depth)]
        )
        n_patch = self.patch_size[0] * self.patch_size[1] * self.patch_size[2]
        self.final_layer = FinalLayer(c.hidden_size, n_patch, self.out_channels)

    @property
    def dtype(self) -> torch.dtype:
        return self.x_embedder.proj.weight.dtype

    def grid_size(self, x: torch.Tensor) -> tuple[int, int, int]:
        """Token grid (T, H, W) after padding latents to patch multiples."""
        _, _, T, H, W = x.shape
        pt, ph, pw = self.patch_size
        return -(-T // pt), -(-H // ph), -(-W // pw)

    def embed_caption(self, y: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """[B,1,L,Cc] (+ mask [B',L]) -> tokens [B,L,C] and bool key mask [B,L] (None = all)."""
        y = self.y_embedder(y).squeeze(1)
        if mask is None:
            return y, None
        if mask.shape[0] != y.shape[0]:
            mask = mask.repeat(y.shape[0] // mask.shape[0], 1)
        return y, mask.reshape(y.shape[0], -1) != 0

    def forward(self, x, timestep, y, mask=None, x_mask=None, fps=None, height=None, width=None, **_):
        dtype = self.dtype
        B = x.shape[0]
        x, timestep, y = x.to(dtype), timestep.to(dtype), y.to(dtype)
        _, _, Tx, Hx, Wx = x.shape
        T, H, W = self.grid_size(x)
        S = H * W

        base_size = round(S**0.5)
        scale = (height[0].item() * width[0].item()) ** 0.5 / self.config.input_sq_size
        pos = sincos_grid_2d(H, W, self.hidden_size, scale, base_size, device=x.device, dtype=dtype)

        fps_emb = self.fps_embedder(fps.unsqueeze(1), B)
        t = self.t_embedder(timestep, dtype) + fps_emb
        t_mlp = self.t_block(t)
        t0 = t0_mlp = None
        if x_mask is not None:
            t0 = self.t_embedder(torch.zeros_like(timestep), dtype) + fps_emb
            t0_mlp = self.t_block(t0)

        y, key_mask = self.embed_caption(y, mask)

        x = self.x_embedder(x).view(B, T, S, self.hidden_size) + pos
        x = x.view(B, T * S, self.hidden_size)
        for spatial, temporal in zip(self.spatial_blocks, self.temporal_blocks):
            x = spatial(x, y, t_mlp, key_mask, x_mask, t0_mlp, T, S)
            x = temporal(x, y, t_mlp, key_mask, x_mask, t0_mlp, T, S)

        x = self.final_layer(x, t, x_mask, t0, T, S)
        return self.unpatchify(x, T, H, W, Tx, Hx, Wx).float()

    def unpatchify(self, x, T: int, H: int, W: int, Tx: int, Hx: int, Wx: int) -> torch.Tensor:
        """[B, T*H*W, pt*ph*pw*C_out] -> [B, C_out, Tx, Hx, Wx] (patch padding cropped)."""
        pt, ph, pw = self.patch_size
        B = x.shape[0]
        x = x.view(B, T, H, W, pt, ph, pw, self.out_channels)
        x = x.permute(0, 7, 1, 4, 2, 5, 3, 6).reshape(B, self.out_channels, T * pt, H * ph, W * pw)
        return x[:, :, :Tx, :Hx, :Wx]
