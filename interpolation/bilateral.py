"""Bilateral choice of the motion at time t for the weight-free interpolator (:mod:`.flow`).

Each candidate is a pair of flows from time t back to the two frames, ``(F_t0, F_t1)``. Its error at a
pixel is the box-filtered squared difference of the two frames warped to t with it (bilateral
matching: the motion that explains both frames makes them agree); the candidates are mixed per pixel
with softmax weights of their errors. Two implementations of one computation: OpenCV/numpy when the
tensors are on the CPU (each frame converted once for all candidates; ~3x faster there than torch)
and torch on any other device. ``tests/test_interpolation_bilateral.py`` holds them equal.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

Candidate = tuple["torch.Tensor", "torch.Tensor"]


def candidates(f01: "torch.Tensor", f10: "torch.Tensor", t: float, shift: int = 0) -> list[Candidate]:
    """``(F_t0, F_t1)`` of the *plain* estimate (``t·F10``, ``(1-t)·F01``), of the *symmetric* one
    (the mean motion ``m = (F10 - F01) / 2`` seen from both frames: ``t·m``, ``-(1-t)·m``) and, with
    ``shift`` > 0, of the symmetric one read ``shift`` pixels right, left, below and above: at a
    motion boundary the flow at a pixel often belongs to the other side (DIS's patches straddle it),
    and the right motion is a few pixels away."""
    m = 0.5 * (f10 - f01)
    sym = (t * m, -(1 - t) * m)
    out = [(t * f10, (1 - t) * f01), sym]
    if shift > 0:
        for dx, dy in ((shift, 0), (-shift, 0), (0, shift), (0, -shift)):
            out.append((shifted(sym[0], dx, dy), shifted(sym[1], dx, dy)))
    return out


def shifted(f: "torch.Tensor", dx: int, dy: int) -> "torch.Tensor":
    """``f [B, C, H, W]`` read at ``x + (dx, dy)`` (whole pixels; the border repeats)."""
    import torch.nn.functional as F

    h, w = f.shape[-2:]
    left, top = max(-dx, 0), max(-dy, 0)
    p = F.pad(f, (left, max(dx, 0), top, max(dy, 0)), mode="replicate")
    return p[..., top + dy:top + dy + h, left + dx:left + dx + w]


def motion_at(i0: "torch.Tensor", i1: "torch.Tensor", f01: "torch.Tensor", f10: "torch.Tensor", t: float,
              shift: int, radius: int, softness: float
              ) -> tuple["torch.Tensor", "torch.Tensor", "torch.Tensor"]:
    """The per-pixel soft choice among the :func:`candidates` of flows ``f01``, ``f10`` (``[1, 2, h,
    w]``) for frames ``[1, 3, h, w]``: the mixed ``F_t0``, ``F_t1`` (``[1, 2, h, w]``) and the mixed
    error (``[1, 1, h, w]``). Errors are box means of radius ``radius``; the weights are
    ``softmax(-error / softness)`` (with two candidates: the sigmoid of their difference)."""
    if all(x.device.type == "cpu" for x in (i0, i1, f01, f10)):
        return _motion_at_cpu(i0, i1, f01, f10, t, shift, radius, softness)
    return motion_at_torch(i0, i1, f01, f10, t, shift, radius, softness)


def motion_at_torch(i0, i1, f01, f10, t: float, shift: int, radius: int, softness: float):
    """:func:`motion_at` in torch (how it runs off the CPU)."""
    import torch

    from .warp import backwarp

    cands = candidates(f01, f10, t, shift)
    errs = torch.cat([box_torch((backwarp(i0, a) - backwarp(i1, b)).square().mean(1, keepdim=True), radius)
                      for a, b in cands], 1)
    weights = torch.softmax(errs / -softness, 1)
    ft0 = sum(weights[:, j:j + 1] * c[0] for j, c in enumerate(cands))
    ft1 = sum(weights[:, j:j + 1] * c[1] for j, c in enumerate(cands))
    return ft0, ft1, (weights * errs).sum(1, keepdim=True)


def _motion_at_cpu(i0, i1, f01, f10, t: float, shift: int, radius: int, softness: float):
    """:func:`motion_at` with OpenCV: each frame and flow converted to HWC once, the symmetric
    candidates kept as the shifted mean motions ``m_k`` they are multiples of (the mix is then
    ``t·(w_0·F10 + Σ w_k·m_k)`` and ``(1-t)·(w_0·F01 - Σ w_k·m_k)``)."""
    import cv2
    import numpy as np
    import torch

    h, w = i0.shape[-2:]
    im0, im1, g01, g10 = (np.ascontiguousarray(x[0].detach().float().permute(1, 2, 0).numpy())
                          for x in (i0, i1, f01, f10))
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), -1)
    m = 0.5 * (g10 - g01)
    means = [m]
    if shift > 0:
        pad = cv2.copyMakeBorder(m, shift, shift, shift, shift, cv2.BORDER_REPLICATE)
        means += [np.ascontiguousarray(pad[shift + dy:shift + dy + h, shift + dx:shift + dx + w])
                  for dx, dy in ((shift, 0), (-shift, 0), (0, shift), (0, -shift))]
    third = np.full((1, im0.shape[-1]), 1.0 / im0.shape[-1], np.float32)
    errs = np.empty((1 + len(means), h, w), np.float32)
    for j, (a, b) in enumerate([(t * g10, (1 - t) * g01)] + [(t * mk, -(1 - t) * mk) for mk in means]):
        d = _remap(im0, grid + a) - _remap(im1, grid + b)
        errs[j] = box_np(cv2.transform(d * d, third).reshape(h, w), radius)
    weights = cv2.exp(((errs.min(0) - errs) * (1.0 / softness)).reshape(-1, w)).reshape(errs.shape)
    weights /= weights.sum(0)  # the softmax (its largest term is 1: no overflow)
    # (OpenCV's multiply-accumulate: numpy's broadcast of [h, w, 1] weights over [h, w, 2] is ~8x slower)
    w2 = [cv2.merge([wk, wk]) for wk in weights]
    mixed = np.zeros_like(m)
    for k, mk in enumerate(means):
        cv2.accumulateProduct(w2[k + 1], mk, mixed)
    ft0, ft1 = mixed.copy(), -mixed
    cv2.accumulateProduct(w2[0], g10, ft0)
    cv2.accumulateProduct(w2[0], g01, ft1)
    ft0 *= t
    ft1 *= 1 - t
    err = (weights * errs).sum(0)
    return (torch.from_numpy(ft0.astype(np.float32, copy=False)).permute(2, 0, 1)[None],
            torch.from_numpy(ft1.astype(np.float32, copy=False)).permute(2, 0, 1)[None],
            torch.from_numpy(err.astype(np.float32, copy=False))[None, None])


def _remap(img: "np.ndarray", grid: "np.ndarray") -> "np.ndarray":
    """``img [h, w, c]`` (c <= 4) sampled at the positions ``grid [h, w, 2]`` (x, y), bilinear, edge
    pixels repeated (as :func:`.warp.backwarp`)."""
    import cv2

    out = cv2.remap(img, grid, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out if out.ndim == 3 else out[..., None]


def box(x: "torch.Tensor", r: int) -> "torch.Tensor":
    """Mean of ``x [B, C, H, W]`` over a (2r+1)² window, only over pixels inside the frame:
    OpenCV's box filter on the CPU, running sums in torch elsewhere (both O(1) per pixel)."""
    if x.device.type != "cpu":
        return box_torch(x, r)
    import numpy as np
    import torch

    b, c, h, w = x.shape
    src = x.detach().float().reshape(b * c, h, w).numpy()
    return torch.from_numpy(np.stack([box_np(m, r) for m in src])).reshape(b, c, h, w).to(x.dtype)


def box_np(x: "np.ndarray", r: int) -> "np.ndarray":
    """:func:`box` of one float32 map ``[h, w]``: sums with zeros outside, divided by the count of
    pixels inside."""
    import cv2
    import numpy as np

    if r <= 0:
        return x
    h, w = x.shape
    s = cv2.boxFilter(np.ascontiguousarray(x), -1, (2 * r + 1, 2 * r + 1), normalize=False,
                      borderType=cv2.BORDER_CONSTANT)
    return s / np.outer(_counts(h, r), _counts(w, r))


def _counts(n: int, r: int) -> "np.ndarray":
    import numpy as np

    pos = np.arange(n)
    return (np.minimum(pos + r + 1, n) - np.maximum(pos - r, 0)).astype(np.float32)


def box_torch(x: "torch.Tensor", r: int) -> "torch.Tensor":
    """:func:`box` in torch: running sums along each axis (pooling ops are several times slower)."""
    for dim in (2, 3):
        x = _box1d(x, r, dim)
    return x


def _box1d(x: "torch.Tensor", r: int, dim: int) -> "torch.Tensor":
    import torch

    n = x.shape[dim]
    if r <= 0 or n == 1:
        return x
    shape = list(x.shape)
    shape[dim] = 1
    c = torch.cat([x.new_zeros(shape), x.cumsum(dim)], dim)
    pos = torch.arange(n, device=x.device)
    hi, lo = (pos + r + 1).clamp_(max=n), (pos - r).clamp_(min=0)
    count = (hi - lo).to(x.dtype).view([-1 if d == dim else 1 for d in range(x.ndim)])
    return (c.index_select(dim, hi) - c.index_select(dim, lo)) / count
