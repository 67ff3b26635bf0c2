"""Per-clip face tracking: fewer detector calls, and boxes that do not jitter.

A clip is processed offline, so both ends of every gap are known. With tracking on, the detector
runs on key frames every ``every`` frames; a gap whose two ends show the same faces (same count,
each matched by overlap) is filled by interpolating boxes and landmarks; a gap whose ends disagree
(a face appears, leaves, or moves too far) is split at its middle and detected again, down to
single frames. Faces are then linked into tracks by overlap, and each track's boxes and landmarks
are smoothed over time (Gaussian-weighted local linear fit: zero lag, also at the ends).
"""
from __future__ import annotations

import logging
from typing import Callable, Sequence

import numpy as np

from .detect import Face, iou

log = logging.getLogger(__name__)

LINK_IOU = 0.3
GAP_NEAR = 0.25  # key frames show the same face when centres are < 0.75 face sizes apart


def _near(fa: Face, fb: Face) -> float:
    """Similarity of two faces some frames apart: 1 - centre distance / size (0 when the sizes
    differ by more than 1.5x). Overlap is too strict across a gap of several frames."""
    sa, sb = max(fa.size, 1.0), max(fb.size, 1.0)
    if max(sa, sb) > 1.5 * min(sa, sb):
        return 0.0
    ca = (fa.box[:2] + fa.box[2:4]) / 2
    cb = (fb.box[:2] + fb.box[2:4]) / 2
    return float(1.0 - np.linalg.norm(ca - cb) / ((sa + sb) / 2))


def _match(a: Sequence[Face], b: Sequence[Face], thresh: float = LINK_IOU, score=None) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of faces by ``score`` (box overlap by default), best pairs first."""
    score = score or (lambda fa, fb: iou(fa.box, fb.box))
    pairs = sorted(((score(fa, fb), i, j) for i, fa in enumerate(a) for j, fb in enumerate(b)), reverse=True)
    used_a, used_b, out = set(), set(), []
    for score, i, j in pairs:
        if score < thresh or i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append((i, j))
    return out


def _lerp(fa: Face, fb: Face, t: float) -> Face:
    lm = None
    if fa.landmarks is not None and fb.landmarks is not None:
        lm = (fa.landmarks * (1 - t) + fb.landmarks * t).astype(np.float32)
    return Face((fa.box * (1 - t) + fb.box * t).astype(np.float32), min(fa.score, fb.score), lm)


def detect_clip(n: int, detect: Callable[[int], list[Face]], every: int = 1) -> list[list[Face]]:
    """Faces of frames ``0..n-1``; ``detect(i)`` runs the detector on frame i.

    ``every`` <= 1 detects every frame. Otherwise key frames plus adaptive splitting (see module).
    """
    if n <= 0:
        return []
    if every <= 1:
        return [detect(i) for i in range(n)]
    found: dict[int, list[Face]] = {}

    def get(i: int) -> list[Face]:
        if i not in found:
            found[i] = detect(i)
        return found[i]

    keys = list(range(0, n, every))
    if keys[-1] != n - 1:
        keys.append(n - 1)
    stack = [(keys[k], keys[k + 1]) for k in range(len(keys) - 1)][::-1]
    result: dict[int, list[Face]] = {}
    if n == 1:
        return [get(0)]
    while stack:
        a, b = stack.pop()
        fa, fb = get(a), get(b)
        if b - a <= 1:
            continue
        pairs = _match(fa, fb, GAP_NEAR, _near)
        if len(fa) == len(fb) == len(pairs):
            for i in range(a + 1, b):
                t = (i - a) / (b - a)
                result[i] = [_lerp(fa[p], fb[q], t) for p, q in pairs]
            continue
        mid = (a + b) // 2
        stack.append((mid, b))
        stack.append((a, mid))
    result.update(found)
    return [result[i] for i in range(n)]


def link_tracks(per_frame: list[list[Face]]) -> list[list[Face]]:
    """Assign ``Face.track`` ids by overlap with the previous frame (new id when unmatched).
    Returns new Face objects; the input is not changed."""
    out: list[list[Face]] = []
    prev: list[Face] = []
    next_id = 0
    for faces in per_frame:
        cur = [Face(f.box.copy(), f.score, None if f.landmarks is None else f.landmarks.copy()) for f in faces]
        for i, j in _match(prev, cur):
            cur[j].track = prev[i].track
        for f in cur:
            if f.track < 0:
                f.track = next_id
                next_id += 1
        out.append(cur)
        prev = cur
    return out


def _gauss_smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-weighted local linear fit along axis 0 (a Gaussian filter in the middle of a run;
    at its ends the fitted slope keeps a moving face from lagging behind)."""
    if sigma <= 0 or len(x) < 3:
        return x
    r = int(np.ceil(3 * sigma))
    flat = x.reshape(len(x), -1).astype(np.float64)
    out = np.empty_like(flat)
    for t in range(len(x)):
        lo, hi = max(0, t - r), min(len(x), t + r + 1)
        d = np.arange(lo, hi) - t
        w = np.exp(-0.5 * (d / sigma) ** 2)
        s0, s1, s2 = w.sum(), (w * d).sum(), (w * d * d).sum()
        y0 = (w[:, None] * flat[lo:hi]).sum(0)
        y1 = (w[:, None] * d[:, None] * flat[lo:hi]).sum(0)
        det = s0 * s2 - s1 * s1
        out[t] = (s2 * y0 - s1 * y1) / det if det > 1e-9 else y0 / s0
    return out.reshape(x.shape).astype(x.dtype)


def smooth_tracks(per_frame: list[list[Face]], sigma: float) -> list[list[Face]]:
    """Smooth boxes and landmarks of each track over its consecutive frames (sigma in frames)."""
    if sigma <= 0:
        return per_frame
    by_track: dict[int, list[tuple[int, Face]]] = {}
    for t, faces in enumerate(per_frame):
        for f in faces:
            by_track.setdefault(f.track, []).append((t, f))
    for items in by_track.values():
        # split into runs of consecutive frames: a face that leaves and returns is smoothed per run
        runs, run = [], [items[0]]
        for prev, cur in zip(items, items[1:]):
            if cur[0] == prev[0] + 1:
                run.append(cur)
            else:
                runs.append(run)
                run = [cur]
        runs.append(run)
        for run in runs:
            boxes = _gauss_smooth(np.stack([f.box for _, f in run]), sigma)
            for (_, f), b in zip(run, boxes):
                f.box = b.astype(np.float32)
            if all(f.landmarks is not None for _, f in run):
                lms = _gauss_smooth(np.stack([f.landmarks for _, f in run]), sigma)
                for (_, f), lm in zip(run, lms):
                    f.landmarks = lm.astype(np.float32)
    return per_frame


def track_clip(n: int, detect: Callable[[int], list[Face]], tracking: bool = True, every: int = 5,
               sigma: float = 2.0) -> list[list[Face]]:
    """Faces per frame with track ids; with ``tracking`` key-frame detection and smoothing."""
    faces = detect_clip(n, detect, every if tracking else 1)
    faces = link_tracks(faces)
    return smooth_tracks(faces, sigma if tracking else 0.0)
