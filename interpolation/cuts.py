"""Scene-cut detection: never blend two different shots into each other.

A cut between frames ``i-1`` and ``i`` is reported as the index ``i`` (the first frame of the new
shot). Detection compares colour histograms of small thumbnails: a character moving, even far,
keeps the palette of its shot, while a cut changes it. The score is half the L1 distance of two
normalised 8x8x8 RGB histograms, in 0..1 (0 = same colours, 1 = no colour in common).

Duplicated frames (anime drawn "on twos", frame-rate conversions by repetition) are found the same
way, from thumbnails: :func:`difference` below :data:`DUPLICATE_LEVELS`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch

DEFAULT_THRESHOLD = 0.4
_BINS = 8


def thumbnail(frame: "torch.Tensor", side: int = 96) -> "torch.Tensor":
    """``[1, 3, h, w]`` float area-average of a ``[1, H, W, 3]`` / ``[H, W, 3]`` frame, longer side at
    most ``side`` (faster than the frame and robust to noise and compression)."""
    import torch.nn.functional as F

    x = frame.reshape(-1, *frame.shape[-3:])[:1].float().permute(0, 3, 1, 2)
    h, w = x.shape[-2:]
    if max(h, w) > side:
        s = side / max(h, w)
        x = F.interpolate(x, size=(max(1, round(h * s)), max(1, round(w * s))), mode="area")
    return x


def _histogram(frame: "torch.Tensor"):
    """Normalised 8x8x8 RGB histogram of a ``[1, H, W, 3]`` or ``[H, W, 3]`` frame in 0..1."""
    import torch

    q = (thumbnail(frame).clamp(0, 1) * (_BINS - 1e-4)).long()[0]
    idx = (q[0] * _BINS + q[1]) * _BINS + q[2]
    hist = torch.bincount(idx.flatten(), minlength=_BINS**3).double()
    return hist / hist.sum()


def cut_score(a: "torch.Tensor", b: "torch.Tensor") -> float:
    """How different the colours of two frames are, 0..1 (above ~0.4: a different shot)."""
    return float(0.5 * (_histogram(a) - _histogram(b)).abs().sum())


def detect_cuts(frames: "torch.Tensor", threshold: float = DEFAULT_THRESHOLD) -> list[int]:
    """Indices ``i`` where a new shot starts (cut between ``i-1`` and ``i``) in ``[N, H, W, 3]``."""
    return [i for i in range(1, frames.shape[0]) if cut_score(frames[i - 1], frames[i]) > threshold]


#: Frames are "the same drawing" when their thumbnails differ by less than this many 8-bit levels
#: on average (:func:`difference`). Measured on the shared clips: duplicated frames 0.2-0.8, the
#: slowest real motion 1.2 and up.
DUPLICATE_LEVELS = 1.0


#: The longest run of repeats taken for one drawing: anime is drawn on twos, threes, at most fours
#: (a drawing held 4 frames = 3 repeats). A longer hold is a pause in the motion: its frames keep
#: their times. It also bounds the in-betweens that wait for the next drawing.
MAX_REPEATS = 3


def difference(a: "torch.Tensor", b: "torch.Tensor") -> float:
    """Mean absolute difference of two frames' thumbnails, in 8-bit levels (0..255)."""
    return float((thumbnail(a) - thumbnail(b)).abs().mean()) * 255.0
