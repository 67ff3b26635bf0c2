"""Weight-free frame interpolation from OpenCV DIS optical flow.

For a pair (I0, I1) and a time t:

1. DIS optical flow both ways, ``F01`` and ``F10`` (on grey images; on a downscaled copy when a
   side exceeds ``max_flow_side``).
2. A per-pixel *importance* for each source pixel: forward/backward consistency
   (``|F01(x) + F10(x + F01(x))|`` small) times photometric agreement. Pixels that become occluded
   in the other frame are inconsistent, so where several pixels land on the same spot at time t the
   consistent one (the one that stays visible) wins: a cheap stand-in for a depth buffer.
3. Flow projection: every pixel of I0 is splatted (bilinear) to ``x + t·F01(x)`` carrying the pair
   of flows from time t back to 0 and on to 1, and every pixel of I1 likewise along ``(1-t)·F10``.
   The importance-weighted mean gives ``F_t0`` and ``F_t1``; spots nobody landed on (holes) are
   filled by push-pull (pyramid) interpolation of the flow field.
4. I0 and I1 are warped backwards to t with those flows. They are blended with weights
   ``(1-t)·V0`` and ``t·V1``, where ``V0``/``V1`` is how densely pixels of I0/I1 landed there: a
   region uncovered between 0 and t is seen only in I1 and takes its colour from I1 alone
   (occlusion-aware blending, no ghost of the object that moved away).

Everything runs on the CPU in numpy/OpenCV; ``pair`` takes and returns torch tensors as the
:class:`~.base.Interpolator` contract says.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Sequence

from ..errors import MotionComicError
from .base import Interpolator

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

log = logging.getLogger(__name__)

PRESETS = ("ultrafast", "fast", "medium")
MIN_FLOW_SIDE = 384
_EPS = 1e-6


class FlowInterpolator(Interpolator):
    """Optical-flow interpolator (no weights). Any ``t``, any frame size >= 2x2.

    Args:
        preset: DIS preset, ``"ultrafast"``, ``"fast"`` or ``"medium"`` (best, default).
        max_flow_side: flow is computed on a copy downscaled so its longer side is at most this
            (flow vectors are rescaled); larger = finer motion detail, slower.
        min_flow_side: smaller frames are upscaled to this for the flow only (DIS builds too few
            pyramid levels on tiny frames and misses large motion); 0 = never upscale.
    """

    midpoint_only = False
    multiple = 1

    def __init__(self, preset: str = "medium", max_flow_side: int = 1024, min_flow_side: int = MIN_FLOW_SIDE):
        if preset not in PRESETS:
            raise MotionComicError(f"unknown optical-flow preset {preset!r}; use one of {PRESETS}")
        if max_flow_side < 16:
            raise MotionComicError(f"max_flow_side must be >= 16, got {max_flow_side}")
        self.preset = preset
        self.max_flow_side = int(max_flow_side)
        self.min_flow_side = max(0, min(int(min_flow_side), self.max_flow_side))
        self.name = f"optical flow ({preset})"
        self._dis = None

    # ------------------------------------------------------------------ interface
    def pair(self, a: "torch.Tensor", b: "torch.Tensor", t: float) -> "torch.Tensor":
        return self.pair_times(a, b, [t])

    def pair_times(self, a: "torch.Tensor", b: "torch.Tensor", times: Sequence[float]) -> "torch.Tensor":
        import numpy as np
        import torch

        i0 = _to_numpy(a)
        i1 = _to_numpy(b)
        if i0.shape != i1.shape:
            raise MotionComicError(f"frames of different sizes: {tuple(a.shape)} vs {tuple(b.shape)}")
        state = self._prepare(i0, i1)
        out = np.stack([self._at(state, float(t)) for t in times])
        return torch.from_numpy(out)

    def release(self) -> None:
        self._dis = None

    # ------------------------------------------------------------------ steps
    def _flow_engine(self):
        import cv2

        if self._dis is None:
            preset = {
                "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
                "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
                "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
            }[self.preset]
            self._dis = cv2.DISOpticalFlow_create(preset)
        return self._dis

    def flows(self, i0: "np.ndarray", i1: "np.ndarray") -> tuple["np.ndarray", "np.ndarray"]:
        """DIS flow ``F01``, ``F10`` (``[H, W, 2]`` float32, pixels, (dx, dy)) of two RGB frames."""
        import cv2
        import numpy as np

        h, w = i0.shape[:2]
        # DIS picks its number of pyramid levels from the image size: small frames get a single
        # level and miss large motions, so they are upscaled for the flow (cheap at that size).
        scale = min(self.max_flow_side / max(h, w), max(1.0, self.min_flow_side / max(h, w)))
        g0, g1 = (_grey_u8(x) for x in (i0, i1))
        if scale != 1.0:
            size = (max(8, round(w * scale)), max(8, round(h * scale)))
            mode = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            g0 = cv2.resize(g0, size, interpolation=mode)
            g1 = cv2.resize(g1, size, interpolation=mode)
        # DIS needs a few pixels to build its pyramid; tiny frames are padded for the flow only.
        ph, pw = max(0, 16 - g0.shape[0]), max(0, 16 - g0.shape[1])
        if ph or pw:
            g0 = cv2.copyMakeBorder(g0, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
            g1 = cv2.copyMakeBorder(g1, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
        dis = self._flow_engine()
        f01 = dis.calc(g0, g1, None)
        f10 = dis.calc(g1, g0, None)
        fh, fw = g0.shape[0] - ph, g0.shape[1] - pw
        f01, f10 = f01[:fh, :fw], f10[:fh, :fw]
        if (fh, fw) != (h, w):
            sx, sy = w / fw, h / fh
            f01 = cv2.resize(f01, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32([sx, sy])
            f10 = cv2.resize(f10, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32([sx, sy])
        return np.ascontiguousarray(f01, np.float32), np.ascontiguousarray(f10, np.float32)

    def _prepare(self, i0: "np.ndarray", i1: "np.ndarray") -> dict:
        import numpy as np

        f01, f10 = self.flows(i0, i1)
        h, w = i0.shape[:2]
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        imp0 = _importance(i0, i1, f01, f10, gx, gy)
        imp1 = _importance(i1, i0, f10, f01, gx, gy)
        return {"i0": i0, "i1": i1, "f01": f01, "f10": f10, "imp0": imp0, "imp1": imp1, "gx": gx, "gy": gy}

    def _at(self, s: dict, t: float) -> "np.ndarray":
        import cv2
        import numpy as np

        i0, i1, f01, f10, gx, gy = s["i0"], s["i1"], s["f01"], s["f10"], s["gx"], s["gy"]
        h, w = i0.shape[:2]
        # Source pixels of I0 land at x + t·F01 and carry (F_t0, F_t1) = (-t·F01, (1-t)·F01);
        # those of I1 land at y + (1-t)·F10 and carry (t·F10, -(1-t)·F10). Splatting both linear
        # relations with the same weights keeps F_t0 and F_t1 consistent. One bilinear tap at a
        # time, so the work arrays are O(H·W), not 8·H·W.
        n = h * w
        den = np.zeros(n)
        num0 = [np.zeros(n), np.zeros(n)]
        num1 = [np.zeros(n), np.zeros(n)]
        density = []
        sources = (
            (gx + t * f01[..., 0], gy + t * f01[..., 1], s["imp0"].ravel() * (1 - t), f01, -t, 1 - t),
            (gx + (1 - t) * f10[..., 0], gy + (1 - t) * f10[..., 1], s["imp1"].ravel() * t, f10, t, -(1 - t)),
        )
        for px, py, imp, flow, c0, c1 in sources:
            d = np.zeros(n)
            fx, fy = flow[..., 0].ravel(), flow[..., 1].ravel()
            for idx, k, ok in _bilinear_taps(px, py, h, w):
                d += np.bincount(idx, k, n)
                wk = k * imp[ok]
                den += np.bincount(idx, wk, n)
                fxo, fyo = fx[ok], fy[ok]
                num0[0] += np.bincount(idx, wk * (c0 * fxo), n)
                num0[1] += np.bincount(idx, wk * (c0 * fyo), n)
                num1[0] += np.bincount(idx, wk * (c1 * fxo), n)
                num1[1] += np.bincount(idx, wk * (c1 * fyo), n)
            density.append(d)
        safe = np.maximum(den, _EPS)
        weight = den.reshape(h, w).astype(np.float32)
        ft0 = _push_pull(np.stack([num0[0] / safe, num0[1] / safe], -1).reshape(h, w, 2).astype(np.float32), weight)
        ft1 = _push_pull(np.stack([num1[0] / safe, num1[1] / safe], -1).reshape(h, w, 2).astype(np.float32), weight)
        # Raw landing density of each source: who can see this spot at time t.
        d0, d1 = density
        v0 = np.clip(d0.reshape(h, w), 0, 1).astype(np.float32)
        v1 = np.clip(d1.reshape(h, w), 0, 1).astype(np.float32)
        x0, y0 = gx + ft0[..., 0], gy + ft0[..., 1]
        x1, y1 = gx + ft1[..., 0], gy + ft1[..., 1]
        w0 = (1 - t) * (v0 + 1e-3) * _inside(x0, y0, h, w)
        w1 = t * (v1 + 1e-3) * _inside(x1, y1, h, w)
        a = cv2.remap(i0, x0, y0, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        b = cv2.remap(i1, x1, y1, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out = (a * w0[..., None] + b * w1[..., None]) / (w0 + w1)[..., None]
        return np.clip(out, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------- helpers
def _to_numpy(x: "torch.Tensor") -> "np.ndarray":
    import numpy as np

    if x.ndim != 4 or x.shape[0] != 1 or x.shape[-1] != 3:
        raise MotionComicError(f"expected a frame [1, H, W, 3], got {tuple(x.shape)}")
    return np.ascontiguousarray(x[0].detach().to("cpu").float().numpy())


def _grey_u8(img: "np.ndarray") -> "np.ndarray":
    import numpy as np

    g = img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114
    return np.clip(g * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _importance(ia, ib, fab, fba, gx, gy) -> "np.ndarray":
    """How trustworthy each pixel of ``ia`` is as a source: consistency x photometric agreement."""
    import cv2
    import numpy as np

    mx, my = gx + fab[..., 0], gy + fab[..., 1]
    back = cv2.remap(fba, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    err = np.sum((fab + back) ** 2, axis=-1)
    mag = np.sum(fab**2, axis=-1) + np.sum(back**2, axis=-1)
    consistent = np.exp(-err / (0.01 * mag + 0.5))
    warped = cv2.remap(ib, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    photo = np.exp(-np.abs(ia - warped).mean(-1) / 0.05)
    outside = (mx < -0.5) | (my < -0.5) | (mx > ia.shape[1] - 0.5) | (my > ia.shape[0] - 0.5)
    imp = consistent * photo
    imp[outside] *= 0.1
    return np.maximum(imp, 1e-4).astype(np.float32)


def _bilinear_taps(px, py, h: int, w: int):
    """The 4 taps of a bilinear splat: per tap (flat target indices, weights, source mask), only
    for sources whose tap lands inside the frame."""
    import numpy as np

    x0 = np.floor(px)
    y0 = np.floor(py)
    fx = (px - x0).ravel().astype(np.float64)
    fy = (py - y0).ravel().astype(np.float64)
    x0 = x0.astype(np.int64).ravel()
    y0 = y0.astype(np.int64).ravel()
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        xx, yy = x0 + dx, y0 + dy
        ok = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
        kx = fx[ok] if dx else 1 - fx[ok]
        ky = fy[ok] if dy else 1 - fy[ok]
        yield yy[ok] * w + xx[ok], kx * ky, ok


def _push_pull(field: "np.ndarray", weight: "np.ndarray", full: float = 0.1) -> "np.ndarray":
    """Fill low-weight spots of ``field [H,W,C]`` from coarser averages (pyramid push-pull)."""
    import cv2
    import numpy as np

    h, w = weight.shape
    if h <= 1 or w <= 1 or float(weight.min()) >= full:
        return field
    alpha = np.clip(weight / full, 0, 1)[..., None]
    if float(alpha.max()) <= 0:
        return np.zeros_like(field)
    # Coarser level: weighted average of 2x2 blocks.
    sw, sh = max(1, (w + 1) // 2), max(1, (h + 1) // 2)
    wsum = cv2.resize(weight, (sw, sh), interpolation=cv2.INTER_AREA)
    fsum = cv2.resize(field * weight[..., None], (sw, sh), interpolation=cv2.INTER_AREA)
    if fsum.ndim == 2:
        fsum = fsum[..., None]
    coarse = fsum / np.maximum(wsum, _EPS)[..., None]
    coarse = _push_pull(coarse.astype(np.float32), wsum.astype(np.float32), full)
    up = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
    if up.ndim == 2:
        up = up[..., None]
    return (alpha * field + (1 - alpha) * up).astype(np.float32)


def _inside(x, y, h: int, w: int) -> "np.ndarray":
    import numpy as np

    ok = (x >= -0.5) & (y >= -0.5) & (x <= w - 0.5) & (y <= h - 0.5)
    return np.where(ok, 1.0, 0.05).astype(np.float32)
