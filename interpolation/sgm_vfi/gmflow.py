"""GMFlow's feature backbone and transformer, the part SGM-VFI uses for global matching features.

Parameter names follow GMFlow (``backbone.*``, ``transformer.layers.N.*``) so the released
``gmflow_sintel-0c07dcb3.pth`` loads unchanged (its flow-upsampler and propagation weights are not
needed and are skipped). With one scale and one attention split, every attention is global.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import global_attention, sine_position


class ResidualBlock(nn.Module):
    """Two 3x3 convs with instance norm (no affine parameters) and a projected shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride), nn.InstanceNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(F.instance_norm(self.conv1(x)))
        y = F.relu(F.instance_norm(self.conv2(y)))
        if self.downsample is not None:
            x = self.downsample(x)
        return F.relu(x + y)


class CNNEncoder(nn.Module):
    """Image -> ``[N, 128, H/8, W/8]`` features."""

    def __init__(self, out_dim: int = 128):
        super().__init__()
        dims = (64, 96, 128)
        self.conv1 = nn.Conv2d(3, dims[0], 7, 2, 3, bias=False)
        self.layer1 = nn.Sequential(ResidualBlock(dims[0], dims[0]), ResidualBlock(dims[0], dims[0]))
        self.layer2 = nn.Sequential(ResidualBlock(dims[0], dims[1], 2), ResidualBlock(dims[1], dims[1]))
        self.layer3 = nn.Sequential(ResidualBlock(dims[1], dims[2], 2), ResidualBlock(dims[2], dims[2]))
        self.conv2 = nn.Conv2d(dims[2], out_dim, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.instance_norm(self.conv1(x)))
        return self.conv2(self.layer3(self.layer2(self.layer1(x))))


class TransformerLayer(nn.Module):
    def __init__(self, dim: int = 128, ffn: bool = True, expansion: int = 4):
        super().__init__()
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=False)
        self.merge = nn.Linear(dim, dim, bias=False)
        self.norm1 = nn.LayerNorm(dim)
        self.mlp = None
        if ffn:
            self.mlp = nn.Sequential(
                nn.Linear(2 * dim, 2 * dim * expansion, bias=False), nn.GELU(),
                nn.Linear(2 * dim * expansion, dim, bias=False),
            )
            self.norm2 = nn.LayerNorm(dim)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        msg = global_attention(self.q_proj(source), self.k_proj(target), self.v_proj(target))
        msg = self.norm1(self.merge(msg))
        if self.mlp is not None:
            msg = self.norm2(self.mlp(torch.cat([source, msg], -1)))
        return source + msg


class TransformerBlock(nn.Module):
    """Self-attention, then cross-attention to the other frame with a feed-forward net."""

    def __init__(self, dim: int = 128):
        super().__init__()
        self.self_attn = TransformerLayer(dim, ffn=False)
        self.cross_attn_ffn = TransformerLayer(dim, ffn=True)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.cross_attn_ffn(self.self_attn(source, source), target)


class FeatureTransformer(nn.Module):
    def __init__(self, num_layers: int = 6, dim: int = 128):
        super().__init__()
        self.layers = nn.ModuleList(TransformerBlock(dim) for _ in range(num_layers))

    def forward(self, f0: torch.Tensor, f1: torch.Tensor) -> torch.Tensor:
        """``f0``, ``f1``: ``[B, C, h, w]``. Returns ``[2B, C, h, w]`` (frame 0 batch first)."""
        b, c, h, w = f0.shape
        x = torch.cat([f0, f1], 0).flatten(2).transpose(1, 2)
        for layer in self.layers:
            other = torch.cat(x.chunk(2, 0)[::-1], 0)
            x = layer(x, other)
        return x.transpose(1, 2).reshape(2 * b, c, h, w)


class GMFlowFeatures(nn.Module):
    """``backbone`` + ``transformer`` of GMFlow (1 scale, global attention, 6 layers)."""

    def __init__(self, dim: int = 128, num_layers: int = 6):
        super().__init__()
        self.dim = dim
        self.backbone = CNNEncoder(dim)
        self.transformer = FeatureTransformer(num_layers, dim)

    def forward(self, img0: torch.Tensor, img1: torch.Tensor) -> torch.Tensor:
        """Images ``[B, 3, H, W]`` (H, W multiples of 8) -> matching features ``[2B, 128, H/8, W/8]``."""
        feats = self.backbone(torch.cat([img0, img1], 0))
        f0, f1 = feats.chunk(2, 0)
        pos = sine_position(self.dim // 2, f0.shape[2], f0.shape[3], device=f0.device, dtype=f0.dtype)
        return self.transformer(f0 + pos, f1 + pos)
