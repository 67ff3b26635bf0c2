"""Backward warping with a pixel flow field, in torch (runs on whatever device the tensors are on)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def backwarp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``x [B,C,H,W]`` at ``p + flow(p)`` (``flow [B,2,H,W]``, pixels, (dx, dy)), bilinear,
    border padding.

    The grid is built as Practical-RIFE builds it (``linspace(-1, 1)``, flow divided by
    ``(size - 1) / 2``, ``align_corners=True``); sampling runs in float32 whatever the input dtype
    (half-precision grids lose sub-pixel accuracy) and the result has ``x``'s dtype.
    """
    b, _, h, w = flow.shape
    flow = flow.float()
    gx = torch.linspace(-1.0, 1.0, w, device=flow.device).view(1, 1, 1, w).expand(b, -1, h, -1)
    gy = torch.linspace(-1.0, 1.0, h, device=flow.device).view(1, 1, h, 1).expand(b, -1, -1, w)
    # (a 1-pixel side has no extent: any divisor samples its one pixel, 1 avoids a division by 0)
    flow = torch.cat([flow[:, 0:1] / (max(x.shape[3] - 1.0, 1.0) / 2.0), flow[:, 1:2] / (max(x.shape[2] - 1.0, 1.0) / 2.0)], 1)
    g = (torch.cat([gx, gy], 1) + flow).permute(0, 2, 3, 1)
    out = F.grid_sample(x.float(), g, mode="bilinear", padding_mode="border", align_corners=True)
    return out.to(x.dtype)
