"""Temporal clean-up of driving keypoints: side swaps, jump rejection, One-Euro smoothing.

The One-Euro filter (Casiez et al., CHI 2012) is a low-pass filter whose cut-off rises with
speed: still poses lose their jitter, fast moves pass with little lag. Coordinates are divided by
the body size first, so the settings mean the same for a close-up and a long shot.

A detector sometimes swaps left and right limbs for a frame or snaps a low-confidence point far
away. Before filtering, each frame's left/right chains are swapped back when that fits the
previous frame much better, and a point that jumps more than ``jump`` body sizes in one frame
(scaled to 24 fps) with a score below 0.8 is treated as unseen — for up to 3 frames, after which
the new place is accepted (a real fast move).
"""
from __future__ import annotations

import math

import numpy as np

from .keypoints import VISIBLE
from .skeleton import SIDE_SWAPS


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


def _norm(v: np.ndarray) -> np.ndarray:
    return np.sqrt(v[..., 0] * v[..., 0] + v[..., 1] * v[..., 1])


_SWAPS = [(np.array(r), np.array(lft)) for r, lft in SIDE_SWAPS.values()]


def clean(points: np.ndarray, scores: np.ndarray, body_size: float, fps: float = 24.0, *,
          min_cutoff: float = 1.0, beta: float = 10.0, d_cutoff: float = 1.0, jump: float = 0.5,
          smooth: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Driving keypoints ``[N,K,2]`` and scores ``[N,K]`` -> (filtered points, unfiltered points
    with swaps undone, scores).

    Unseen points (score <= 0.3) keep their input values and score; rejected jumps get score 0.
    ``min_cutoff`` (Hz) sets the smoothing of still poses, ``beta`` how fast the cut-off rises
    with speed (in body sizes per second).
    """
    pts = points.astype(np.float64) / max(body_size, 1e-6)
    sc = scores.astype(np.float32).copy()
    n, k, _ = pts.shape
    dt = 1.0 / max(fps, 1e-3)
    jump_limit = jump * 24.0 / max(fps, 1e-3)
    a_d = _alpha(d_cutoff, dt)
    x_hat = np.full((k, 2), np.nan)
    dx_hat = np.zeros((k, 2))
    rejected = np.zeros(k, int)
    out = pts.copy()
    raw = pts.copy()
    for t in range(n):
        frame, fsc = pts[t], sc[t]
        has = ~np.isnan(x_hat[:, 0])
        if has.any():
            _unswap(frame, fsc, fsc > VISIBLE, x_hat, has)
        vis = fsc > VISIBLE
        step = _norm(frame - np.where(has[:, None], x_hat, frame))
        jumped = vis & has & (step > jump_limit) & (fsc < 0.8) & (rejected < 3)
        rejected = np.where(jumped, rejected + 1, 0)
        fsc[jumped] = 0.0
        vis &= ~jumped
        new = vis & ~has
        x_hat[new] = frame[new]
        dx_hat[new] = 0.0
        upd = vis & has
        if smooth:
            dx = (frame - x_hat) / dt
            dxh = dx_hat + a_d * (dx - dx_hat)
            cutoff = min_cutoff + beta * _norm(dxh)[:, None]
            xh = x_hat + _alpha(cutoff, dt) * (frame - x_hat)
            dx_hat[upd] = dxh[upd]
            x_hat[upd] = xh[upd]
        else:
            x_hat[upd] = frame[upd]
        out[t, vis] = x_hat[vis]
        out[t, ~vis] = frame[~vis]
        raw[t] = frame
    return out * body_size, raw * body_size, sc


def filter_series(x: np.ndarray, fps: float = 24.0, *, min_cutoff: float = 1.0, beta: float = 1.5,
                  d_cutoff: float = 1.0) -> np.ndarray:
    """One-Euro filter along axis 0 of ``x [N, K]`` (finite values; relative units)."""
    dt = 1.0 / max(fps, 1e-3)
    a_d = _alpha(d_cutoff, dt)
    out = np.empty_like(x, dtype=np.float64)
    x_hat = x[0].astype(np.float64)
    dx_hat = np.zeros_like(x_hat)
    out[0] = x_hat
    for t in range(1, len(x)):
        dx_hat += a_d * ((x[t] - x_hat) / dt - dx_hat)
        x_hat = x_hat + _alpha(min_cutoff + beta * np.abs(dx_hat), dt) * (x[t] - x_hat)
        out[t] = x_hat
    return out


def _unswap(frame: np.ndarray, scores: np.ndarray, vis: np.ndarray, prev: np.ndarray, has: np.ndarray) -> None:
    """Swap a left/right chain pair in place when the swapped frame is much closer to ``prev``."""
    for r_all, l_all in _SWAPS:
        ok = vis[r_all] & vis[l_all] & has[r_all] & has[l_all]
        m = int(ok.sum())
        if m < 2:
            continue
        r, lft = r_all[ok], l_all[ok]
        keep = _norm(frame[r] - prev[r]).sum() + _norm(frame[lft] - prev[lft]).sum()
        if keep <= 0.3 * m:
            continue
        swap = _norm(frame[lft] - prev[r]).sum() + _norm(frame[r] - prev[lft]).sum()
        if swap < 0.5 * keep:
            frame[r_all], frame[l_all] = frame[l_all].copy(), frame[r_all].copy()
            scores[r_all], scores[l_all] = scores[l_all].copy(), scores[r_all].copy()
