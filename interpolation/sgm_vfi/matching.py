"""The global branch: sparse global matching at 1/8 scale, merging with the local flow, refinement.

1. Where is the local flow unreliable? Warp each frame to t and on to the other frame; the
   photometric error (holes excluded), carried back to the frame, is an importance map.
2. The top-k most important positions (k = ratio * h * w) of each frame are matched against every
   position of the other frame with GMFlow features (softmax over the correlation gives the
   expected match). Small maps (h <= 32) match every position (dense).
3. The matched 0->1 / 1->0 flows are forward-splatted to time t (softmax splatting), keeping the
   top-k most covered targets, and fill in the local flow where they exist.
4. A merging block blends local and matched flow with learnt softmax weights over 3x3 neighbours;
   a refinement block turns the result into a residual flow and mask at full resolution.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import backward_warp, conv_prelu, global_attention, pixel_grid, resize
from .softsplat import softsplat

DENSE_MAX_HEIGHT = 32  # at 1/8 scale; upstream matches densely up to here (frames <= 256 px high)


def _warp_twice(image: torch.Tensor, flow_ta: torch.Tensor, flow_tb: torch.Tensor) -> torch.Tensor:
    """Backward-warp ``image`` (frame A) to time t, then splat it on to frame B."""
    at_t = backward_warp(image, flow_ta)
    ones = torch.ones_like(at_t[:, :1])
    return softsplat(at_t, flow_tb, ones, "soft")


def _difference_map(img_a, img_b, flow_ta, flow_tb) -> torch.Tensor:
    return (_warp_twice(img_a, flow_ta, flow_tb) - img_b).abs().sum(1, keepdim=True)


def _reached(template, flow_ta, flow_tb) -> torch.Tensor:
    """1 where something lands on frame B after warping a frame of ones there, else 0."""
    out = _warp_twice(torch.ones_like(template[:, :1]), flow_ta, flow_tb)
    return (out != 0).to(template.dtype)


def importance_map(img0: torch.Tensor, img1: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``[2B, 1, H, W]``: how badly the local flow explains frame 0 (first B) and frame 1."""
    f_t0, f_t1 = flow[:, 0:2], flow[:, 2:4]
    d1 = _difference_map(img0, img1, f_t0, f_t1) * _reached(img0, f_t0, f_t1)
    d0 = _difference_map(img1, img0, f_t1, f_t0) * _reached(img1, f_t1, f_t0)
    prob0 = _warp_twice(d1, f_t1, f_t0)
    prob1 = _warp_twice(d0, f_t0, f_t1)
    return torch.cat([prob0, prob1], 0)


def match(query: torch.Tensor, target: torch.Tensor, h: int, w: int,
          index: torch.Tensor | None) -> torch.Tensor:
    """Expected displacement of each query in the target map.

    Args:
        query: ``[N, K, C]`` features (K = h*w for dense matching).
        target: ``[N, h*w, C]`` features of the other frame.
        index: ``[N, K, 1]`` flat positions of the queries, or None for dense.
    Returns:
        ``[N, 2, h, w]`` flow in 1/8-scale pixels, exactly 0 where no query sits.
    """
    n = target.shape[0]
    grid = pixel_grid(n, h, w, target.device, torch.float32).reshape(n, 2, -1).transpose(1, 2)  # [N, hw, 2]
    # The expected target position of each query: softmax(q k^T / sqrt(C)) @ grid, in float32.
    target_pos = global_attention(query.float(), target.float(), grid)
    if index is None:
        return (target_pos - grid).transpose(1, 2).reshape(n, 2, h, w)
    idx = index.expand(-1, -1, 2)
    moved = torch.zeros_like(grid).scatter(1, idx, target_pos)
    origin = grid * torch.zeros_like(grid).scatter(1, idx, torch.ones_like(target_pos))
    return (moved - origin).transpose(1, 2).reshape(n, 2, h, w)


def _keep_topk(values: torch.Tensor, k: int) -> torch.Tensor:
    """1 at the ``k`` largest entries of each ``[N, 1, h, w]`` map if they are non-zero, else 0."""
    n, _, h, w = values.shape
    flat = values.reshape(n, h * w, 1)
    top, idx = torch.topk(flat, k, dim=1)
    kept = torch.zeros_like(flat).scatter(1, idx, top)
    return (kept != 0).to(values.dtype).reshape(n, 1, h, w)


def shift_to_t(flow01: torch.Tensor, t: float, k: int | None) -> torch.Tensor:
    """Splat matched flows ``[2B, 2, h, w]`` (0->1 first, then 1->0) to time ``t``.

    Returns ``[2B, 2, h, w]``: flow t->0 (first B, from the 1->0 matches) and t->1; zero where
    nothing landed. With ``k`` (sparse matching) only the ``k`` best-covered targets are kept.
    """
    b = flow01.shape[0] // 2
    present = (flow01 != 0).to(torch.float32).sum(1, keepdim=True) / 2
    p10, p01 = present[b:], present[:b]
    f10, f01 = flow01[b:], flow01[:b]

    def splat(flow_values, flow_move, p):
        metric = torch.where(p == 0, torch.full_like(p, -20.0), torch.ones_like(p))
        return softsplat(flow_values, flow_move, metric, "soft")

    out = torch.cat([splat(f10 * t, f10 * (1 - t), p10), splat(f01 * (1 - t), f01 * t, p01)], 0)
    if k is not None:
        cover = torch.cat([softsplat(p10, f10 * (1 - t), None, "sum"), softsplat(p01, f01 * t, None, "sum")], 0)
        out = out * _keep_topk(cover, k)
    return out


class MergingBlock(nn.Module):
    """Per pixel, a softmax over the 3x3 neighbours of the local flow and of the matched flow."""

    def __init__(self, radius: int = 3, input_dim: int = 256, hidden_dim: int = 256):
        super().__init__()
        self.r = radius
        self.rf = radius ** 2
        self.conv = nn.Sequential(
            nn.Conv2d(8 + 2 * input_dim, hidden_dim, 3, 1, 1), nn.PReLU(hidden_dim),
            nn.Conv2d(hidden_dim, 4 * self.rf, 1, 1, 0),
        )

    def forward(self, feature: torch.Tensor, local: torch.Tensor, matched: torch.Tensor) -> torch.Tensor:
        """``local``/``matched``: ``[B, 4, h, w]``. Returns ``[2B, 2, h, w]`` (t->0 first, then t->1)."""
        b, _, h, w = local.shape
        logits = self.conv(torch.cat((local, matched, feature), 1)).view(b, 1, 4 * self.rf, h, w)
        weights = torch.cat([logits[:, :, : 2 * self.rf], logits[:, :, 2 * self.rf:]], 0).softmax(dim=2)

        def neighbours(f: torch.Tensor) -> torch.Tensor:
            both = torch.cat([f[:, 0:2], f[:, 2:4]], 0)
            return F.unfold(both, [self.r, self.r], padding=self.r // 2).view(2 * b, 2, self.rf, h, w)

        candidates = torch.cat([neighbours(local), neighbours(matched)], 2)
        return (weights * candidates).sum(2)


class FlowRefine(nn.Module):
    def __init__(self, in_planes: int, scale: int, c: int, n_layers: int):
        super().__init__()
        self.scale = scale
        self.conv0 = nn.Sequential(conv_prelu(in_planes, c), conv_prelu(c, c))
        self.convblock = nn.Sequential(*[conv_prelu(c, c) for _ in range(n_layers)])
        self.lastconv = conv_prelu(c, 5)

    def forward(self, x: torch.Tensor, small: torch.Tensor, flow: torch.Tensor):
        s = self.scale
        x = torch.cat((resize(x, 1.0 / s), resize(flow, 1.0 / s) * (1.0 / s), small), 1)
        x = self.conv0(x)
        x = self.lastconv(self.convblock(x) + x)
        out = resize(x, float(s))
        return out[:, :4] * s, out[:, 4:5]


class MatchingBlock(nn.Module):
    """Global-matching correction of the 1/8-scale local flow.

    Args:
        scale: 8 (the matching scale).
        c: refinement width (4F).
        dim: channels of the local features at 1/8 (8F).
    """

    def __init__(self, scale: int, c: int, dim: int, num_layers: int = 1):
        super().__init__()
        self.scale = scale
        self.merge = MergingBlock(radius=3, input_dim=dim + 128, hidden_dim=256)
        self.refine_block = FlowRefine(27, scale, c, num_layers)

    def forward(self, img0, img1, gm_feat, local_feat, flow, flow_s, mask, warped0, warped1,
                key_ratio: float, t: float = 0.5):
        """Returns residual ``flow`` ``[B, 4, H, W]`` and mask logit ``[B, 1, H, W]``."""
        n, c, h, w = gm_feat.shape
        b = n // 2
        feat = gm_feat.permute(0, 2, 3, 1).reshape(n, h * w, c)
        other = torch.cat([feat[b:], feat[:b]], 0)
        if key_ratio > 0 and h > DENSE_MAX_HEIGHT:
            k = int(key_ratio * (h * w))
            imap = resize_to(importance_map(img0, img1, flow), h, w)
            _, index = torch.topk(imap.reshape(n, 1, h * w).transpose(1, 2), k, dim=1)
            queries = torch.gather(feat, 1, index.expand(-1, -1, c))
            flow01 = match(queries, other, h, w, index)
        else:
            k = None
            flow01 = match(feat, other, h, w, None)
        flow01 = flow01.to(flow_s.dtype)
        shifted = shift_to_t(flow01, t, k).to(flow_s.dtype)
        shifted = torch.cat([shifted[:b], shifted[b:]], 1)
        matched = torch.where(shifted == 0, flow_s, shifted)
        merged = self.merge(torch.cat([gm_feat[:b], gm_feat[b:], local_feat[:b], local_feat[b:]], 1), flow_s, matched)
        merged = torch.cat([merged[:b], merged[b:]], 1)
        s = 1.0 / self.scale
        w0 = backward_warp(resize(img0, s), merged[:, 0:2])
        w1 = backward_warp(resize(img1, s), merged[:, 2:4])
        return self.refine_block(torch.cat((img0, img1, warped0, warped1, mask), 1),
                                 torch.cat([w0, w1, merged], 1), flow)


def resize_to(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
