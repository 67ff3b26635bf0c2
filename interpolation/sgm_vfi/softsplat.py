"""Forward (softmax) splatting in pure torch: scatter-add instead of the cupy kernel upstream uses.

Every source pixel ``(x, y)`` is pushed to ``(x + u, y + v)`` and shared bilinearly among the four
integer neighbours that lie inside the image; contributions to one target pixel add up. Targets
that are not finite are skipped. ``"soft"`` mode weights each source by ``exp(metric)`` and
normalises by the summed weights (Niklaus & Liu, "Softmax Splatting", CVPR 2020).
"""
from __future__ import annotations

import torch

_EPS = 1e-7  # upstream adds this to the normaliser ("soft"/"avg"/"linear" without suffix)


def splat_sum(values: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Summation splatting.

    Args:
        values: ``[N, C, H, W]`` what to push.
        flow: ``[N, 2, H, W]`` displacement in pixels (x then y).
    Returns:
        ``[N, C, H, W]`` float32 sums of bilinear shares landing on each pixel.
    """
    n, c, h, w = values.shape
    values = values.float()
    flow = flow.float()
    xs = torch.arange(w, device=flow.device, dtype=torch.float32).view(1, 1, w)
    ys = torch.arange(h, device=flow.device, dtype=torch.float32).view(1, h, 1)
    tx = xs + flow[:, 0]  # [N, H, W] target positions
    ty = ys + flow[:, 1]
    finite = torch.isfinite(tx) & torch.isfinite(ty)
    tx = torch.where(finite, tx, torch.zeros_like(tx))
    ty = torch.where(finite, ty, torch.zeros_like(ty))
    left, top = torch.floor(tx), torch.floor(ty)
    right, bottom = left + 1, top + 1
    # Same factor order as the reference kernel so results agree to the last bit where possible.
    shares = (
        (left, top, (right - tx) * (bottom - ty)),
        (right, top, (tx - left) * (bottom - ty)),
        (left, bottom, (right - tx) * (ty - top)),
        (right, bottom, (tx - left) * (ty - top)),
    )
    out = values.new_zeros(n, c, h * w)
    for cx, cy, weight in shares:
        inside = finite & (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        index = (cy.clamp(0, h - 1) * w + cx.clamp(0, w - 1)).long().view(n, 1, h * w).expand(n, c, h * w)
        contrib = torch.where(inside.unsqueeze(1), values * weight.unsqueeze(1), torch.zeros_like(values))
        out.scatter_add_(2, index, contrib.view(n, c, h * w))
    return out.view(n, c, h, w)


def softsplat(values: torch.Tensor, flow: torch.Tensor, metric: torch.Tensor | None = None,
              mode: str = "soft") -> torch.Tensor:
    """Forward-warp ``values`` along ``flow``.

    Args:
        values: ``[N, C, H, W]``.
        flow: ``[N, 2, H, W]`` pixels.
        metric: ``[N, 1, H, W]`` importance (``"soft"``: weight ``exp(metric)``; ``"linear"``: weight
            ``metric``); unused for ``"sum"``/``"avg"``.
        mode: ``"sum"``, ``"avg"``, ``"linear"`` or ``"soft"``.
    Returns:
        ``[N, C, H, W]`` in the dtype of ``values`` (computed in float32).
    """
    dtype = values.dtype if values.is_floating_point() else torch.float32
    v = values.float()
    if mode == "sum":
        return splat_sum(v, flow).to(dtype)
    if mode == "avg":
        weight = torch.ones_like(v[:, :1])
    elif mode == "linear":
        weight = metric.float()
    elif mode == "soft":
        weight = metric.float().exp()
    else:
        raise ValueError(f"unknown splatting mode {mode!r}; use sum, avg, linear or soft")
    out = splat_sum(torch.cat([v * weight, weight], 1), flow)
    return (out[:, :-1] / (out[:, -1:] + _EPS)).to(dtype)
