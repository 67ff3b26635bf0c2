"""Streaming a video into fixed-length clips inside shots, with a motion score for each.

One pass over the decoded frames, holding at most ``frames + margin`` clip frames:

1. every source frame gets a small thumbnail (long side ``flow_side``); consecutive thumbnails go
   through our scene-cut detector (:func:`..interpolation.cuts.cut_score`), so a cut between two
   frames that the frame-rate change skips is still seen;
2. the source is resampled to the clip rate by taking the nearest source frame (never repeating
   one: the rate can only go down);
3. inside each shot, clip ``n`` covers the shot's frames ``margin + n*frames .. + frames - 1``: a
   clip never starts or ends within ``margin`` frames of a cut, where detection can be off by a
   frame and fades live;
4. the motion of a clip is the mean magnitude of OpenCV DIS optical flow between its consecutive
   frames on the thumbnails (both directions, as ``interpolation/flow.py`` computes it), in percent
   of the thumbnail's long side, so it does not depend on the footage's resolution.

A shot too short for one clip is reported as :class:`ShortShot`.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np

from ..interpolation.cuts import DEFAULT_THRESHOLD, cut_score

CUT_SIDE = 96  # interpolation/cuts.py compares histograms of 96-px thumbnails


@dataclass
class Window:
    """One fixed-length clip candidate.

    ``frames``: uint8 ``[H, W, 3]`` at the clip size; ``start``: source time of the first frame in
    seconds; ``motion``: percent of the long side per frame (see the module docstring)."""

    shot: int
    index: int
    frames: list[np.ndarray]
    start: float
    motion: float


@dataclass
class ShortShot:
    """A shot with too few frames for one clip: ``frames`` at the clip rate, source times."""

    shot: int
    frames: int
    start: float
    end: float


@dataclass
class _Shot:
    index: int
    buffer: deque = field(default_factory=deque)  # (clip frame, source time, motion from previous)
    seen: int = 0
    windows: int = 0
    start: float = 0.0
    last: float = 0.0
    prev_thumb: np.ndarray | None = None


def clip_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(W, H) of the clips: the source aspect, long side at most ``max_side`` (0 = keep), both even."""
    s = min(1.0, max_side / max(width, height)) if max_side > 0 else 1.0
    return max(2, int(width * s) // 2 * 2), max(2, int(height * s) // 2 * 2)


def _fit(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    h, w = frame.shape[:2]
    if (w, h) == size:
        return frame
    if w - size[0] <= 1 and h - size[1] <= 1:  # only rounding to even: crop, do not resample
        return np.ascontiguousarray(frame[: size[1], : size[0]])
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


class MotionMeter:
    """Mean DIS optical-flow magnitude between two uint8 thumbnails, in percent of the long side."""

    def __init__(self, preset: str = "ultrafast"):
        from ..interpolation.flow import FlowInterpolator

        # thumbnails are already at the flow size: no down- or upscaling inside
        self._flow = FlowInterpolator(preset=preset, max_flow_side=1 << 16, min_flow_side=0)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> float:
        f01, f10 = self._flow.flows(a.astype(np.float32) / 255.0, b.astype(np.float32) / 255.0)
        mag = 0.5 * (np.hypot(f01[..., 0], f01[..., 1]).mean() + np.hypot(f10[..., 0], f10[..., 1]).mean())
        return float(mag) * 100.0 / max(a.shape[:2])


def cut_windows(
    frames: Iterable[np.ndarray],
    source_fps: float,
    *,
    length: int,
    fps: float | None = None,
    size: tuple[int, int],
    margin: int = 2,
    cut_threshold: float = DEFAULT_THRESHOLD,
    flow_side: int = 256,
    on_frame: Callable[[int], None] | None = None,
) -> Iterator[Window | ShortShot]:
    """Split decoded uint8 ``[H, W, 3]`` source frames into clips of ``length`` frames at ``fps``
    (None = ``source_fps``) and size ``size`` (W, H); yields windows and short shots in order.

    ``on_frame(i)`` is called after each source frame (progress, cancel)."""
    import cv2
    import torch

    fps = float(fps or source_fps)
    step = source_fps / fps
    if step < 1 - 1e-6:
        raise ValueError(f"clip rate {fps} is above the source rate {source_fps}")
    meter = MotionMeter()
    shot = _Shot(0)
    prev_cut_thumb = None
    k = 0  # next clip-rate frame to take
    thumb_size = cut_size = None
    for i, frame in enumerate(frames):
        if thumb_size is None:
            thumb_size, cut_size = _side(frame.shape, flow_side), _side(frame.shape, CUT_SIDE)
        thumb = cv2.resize(frame, thumb_size, interpolation=cv2.INTER_AREA)
        # the detector's own 96-px thumbnail, made here with OpenCV: torch's area resize of every
        # frame costs ten times more when the cores are shared
        cur = torch.from_numpy(cv2.resize(thumb, cut_size, interpolation=cv2.INTER_AREA)).float().div_(255.0)
        if prev_cut_thumb is not None and cut_score(prev_cut_thumb, cur) > cut_threshold:
            yield from _close(shot, fps, length, margin)
            shot = _Shot(shot.index + 1)
        prev_cut_thumb = cur
        if int(math.floor(k * step + 0.5)) <= i:
            k += 1
            t = i / source_fps
            motion = meter(shot.prev_thumb, thumb) if shot.prev_thumb is not None else 0.0
            if shot.seen == 0:
                shot.start = t
            shot.last, shot.prev_thumb = t, thumb
            shot.buffer.append((_fit(frame, size), t, motion))
            shot.seen += 1
            if len(shot.buffer) > length + margin:
                shot.buffer.popleft()
            if shot.seen == margin + (shot.windows + 1) * length + margin:
                items = list(shot.buffer)[:length]
                yield Window(shot.index, shot.windows, [f for f, _, _ in items], items[0][1],
                             float(np.mean([m for _, _, m in items[1:]])) if length > 1 else 0.0)
                shot.windows += 1
        if on_frame is not None:
            on_frame(i)
    yield from _close(shot, fps, length, margin)


def _side(shape: tuple[int, ...], side: int) -> tuple[int, int]:
    h, w = shape[:2]
    s = min(1.0, side / max(h, w))
    return max(16, round(w * s)), max(16, round(h * s))


def _close(shot: _Shot, fps: float, length: int, margin: int) -> Iterator[ShortShot]:
    if shot.windows == 0 and shot.seen > 0:
        yield ShortShot(shot.index, shot.seen, shot.start, shot.last + 1.0 / fps)
