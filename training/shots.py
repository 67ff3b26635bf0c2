"""Streaming a video into fixed-length clips inside shots, with a motion score for each.

One pass over the decoded frames, holding at most ``frames + margin`` clip frames:

1. every source frame gets a small thumbnail (long side <= ``flow_side``); consecutive thumbnails go
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


def box_thumbnail(frame: np.ndarray, side: int) -> np.ndarray:
    """Integer-factor box-filter thumbnail, long side at most ``side`` (an odd remainder of rows or
    columns is trimmed: OpenCV's area resize is several times faster at an exact integer factor)."""
    import cv2

    h, w = frame.shape[:2]
    f = max(1, math.ceil(max(h, w) / side))
    if f == 1:
        return frame.copy()  # decoded frames are read-only views of ffmpeg's buffer
    th, tw = max(1, h // f), max(1, w // f)
    return cv2.resize(frame[: th * f, : tw * f], (tw, th), interpolation=cv2.INTER_AREA)


class MotionMeter:
    """Mean DIS optical-flow magnitude between two uint8 thumbnails, in percent of the long side."""

    def __init__(self, preset: str = "ultrafast"):
        from ..interpolation.flow import FlowInterpolator

        # thumbnails are already at the flow size: no down- or upscaling inside
        self._flow = FlowInterpolator(preset=preset, max_flow_side=1 << 16, min_flow_side=0, device="cpu")

    def __call__(self, a: np.ndarray, b: np.ndarray) -> float:
        import torch

        x0, x1 = (torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None].float() / 255.0 for x in (a, b))
        f01, f10 = self._flow.flows(x0, x1)  # [1, 2, H, W] pixels
        mag = 0.5 * (f01.norm(dim=1).mean() + f10.norm(dim=1).mean())
        return float(mag) * 100.0 / max(a.shape[:2])


def cut_windows(
    frames: Iterable[np.ndarray],
    source_fps: float,
    *,
    length: int,
    fps: float | None = None,
    margin: int = 2,
    cut_threshold: float = DEFAULT_THRESHOLD,
    flow_side: int = 256,
    on_frame: Callable[[int], None] | None = None,
) -> Iterator[Window | ShortShot]:
    """Split decoded uint8 ``[H, W, 3]`` source frames (already at the clip size: ``iter_video``
    scales them in ffmpeg) into clips of ``length`` frames at ``fps`` (None = ``source_fps``);
    yields windows and short shots in order. ``on_frame(i)`` is called after each source frame
    (progress, cancel)."""
    import torch

    fps = float(fps or source_fps)
    step = source_fps / fps
    if step < 1 - 1e-6:
        raise ValueError(f"clip rate {fps} is above the source rate {source_fps}")
    meter = MotionMeter()
    shot = _Shot(0)
    prev_cut = None
    k = 0  # next clip-rate frame to take
    for i, frame in enumerate(frames):
        thumb = box_thumbnail(frame, flow_side)
        # the detector's own <= 96 px thumbnail, made here: torch's area resize of every frame
        # costs ten times more than OpenCV's when the cores are shared
        cur = torch.from_numpy(box_thumbnail(thumb, CUT_SIDE)).float().div_(255.0)
        if prev_cut is not None and cut_score(prev_cut, cur) > cut_threshold:
            yield from _close(shot, fps)
            shot = _Shot(shot.index + 1)
        prev_cut = cur
        if int(math.floor(k * step + 0.5)) <= i:
            k += 1
            t = i / source_fps
            motion = meter(shot.prev_thumb, thumb) if shot.prev_thumb is not None else 0.0
            if shot.seen == 0:
                shot.start = t
            shot.last, shot.prev_thumb = t, thumb
            shot.buffer.append((frame, t, motion))
            shot.seen += 1
            if len(shot.buffer) > length + margin:
                shot.buffer.popleft()
            if shot.seen == margin + (shot.windows + 1) * length + margin:
                items = list(shot.buffer)[:length]
                yield Window(shot.index, shot.windows, [f for f, _, _ in items], items[0][1],
                             float(np.mean([m for _, _, m in items[1:]])))
                shot.windows += 1
        if on_frame is not None:
            on_frame(i)
    yield from _close(shot, fps)


def _close(shot: _Shot, fps: float) -> Iterator[ShortShot]:
    if shot.windows == 0 and shot.seen > 0:
        yield ShortShot(shot.index, shot.seen, shot.start, shot.last + 1.0 / fps)
