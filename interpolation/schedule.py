"""Which output frames a retimed clip has: originals kept, in-between times per pair.

Two schedules share one interface:

* :class:`MultiplierSchedule` (``m`` >= 2): every original frame is kept and ``m - 1`` frames at
  ``t = j/m`` are made between each pair: ``(N - 1)·m + 1`` frames, fps x ``m``.
* :class:`ResampleSchedule` (a target fps that is not an integer multiple of the input fps): output
  frame ``k`` shows input time ``k · fps / target_fps``; an original frame is kept (bit-identical)
  exactly where an output time falls on it, every other output frame is synthesised.

Both work on streams of unknown length (the decision for pair ``i`` needs only ``i``).
Pure Python (``fractions``), no torch.
"""
from __future__ import annotations

import math
from fractions import Fraction

from ..errors import MotionComicError


class MultiplierSchedule:
    def __init__(self, multiplier: int):
        self.multiplier = int(multiplier)

    def keeps_original(self, i: int) -> bool:
        return True

    def times(self, pair: int) -> list[float]:
        """Times in (0, 1) wanted between frame ``pair`` and ``pair + 1``."""
        m = self.multiplier
        return [j / m for j in range(1, m)]

    def count(self, n: int) -> int:
        return (n - 1) * self.multiplier + 1

    def out_fps(self, fps: float | None) -> float | None:
        return None if fps is None else fps * self.multiplier


class ResampleSchedule:
    def __init__(self, fps: float, target_fps: float):
        self.fps = float(fps)
        self.target_fps = float(target_fps)
        # Output frame k shows input time k / ratio; exact rational arithmetic so that originals
        # are recognised exactly (23.976 -> 60 included).
        self.ratio = Fraction(target_fps).limit_denominator(100_000) / Fraction(fps).limit_denominator(100_000)
        self.multiplier = None

    def keeps_original(self, i: int) -> bool:
        return (i * self.ratio).denominator == 1

    def times(self, pair: int) -> list[float]:
        first = math.floor(pair * self.ratio) + 1  # first output index strictly after frame `pair`
        out = []
        k = first
        while Fraction(k) / self.ratio < pair + 1:
            out.append(float(Fraction(k) / self.ratio - pair))
            k += 1
        return out

    def count(self, n: int) -> int:
        return math.floor((n - 1) * self.ratio) + 1

    def out_fps(self, fps: float | None) -> float:
        return self.target_fps


#: The largest frame-rate ratio one pass makes (the node's multiplier maximum): beyond it, a target fps
#: from a stranger's workflow (240 fps from 0.1) would ask for thousands of frames per input frame.
MAX_RATIO = 16


def make_schedule(
    multiplier: int | None, fps: float | None = None, target_fps: float | None = None
) -> MultiplierSchedule | ResampleSchedule:
    """The schedule for a multiplier, or for a target fps (integer ratios become multipliers).

    Raises :class:`MotionComicError` with the valid values for a bad multiplier or fps.
    """
    if target_fps is not None and target_fps > 0:
        if fps is None or not fps > 0:
            raise MotionComicError(
                f"target fps {target_fps} needs the input clip's fps (got {fps!r}); pass fps=..."
            )
        if target_fps <= fps:
            raise MotionComicError(
                f"target fps {target_fps:g} must be above the input fps {fps:g}: interpolation only adds"
                " frames (set target fps to 0 to use the multiplier)"
            )
        ratio = Fraction(target_fps).limit_denominator(100_000) / Fraction(fps).limit_denominator(100_000)
        if ratio > MAX_RATIO:
            raise MotionComicError(
                f"target fps {target_fps:g} is {float(ratio):.1f}x the input's {fps:g} fps; one pass makes at most "
                f"{MAX_RATIO}x (up to {fps * MAX_RATIO:g} fps here). Check the fps input (is it the clip's real "
                "rate?), or interpolate twice")
        if ratio.denominator == 1:
            return MultiplierSchedule(int(ratio))
        return ResampleSchedule(fps, target_fps)
    if isinstance(multiplier, bool) or multiplier is None:
        raise MotionComicError(f"multiplier must be an integer >= 2, got {multiplier!r}")
    if isinstance(multiplier, float):
        if not multiplier.is_integer():
            raise MotionComicError(
                f"multiplier must be a whole number >= 2, got {multiplier}; for a non-integer ratio"
                " give target_fps instead"
            )
        multiplier = int(multiplier)
    if not isinstance(multiplier, int) or multiplier < 2:
        raise MotionComicError(
            f"multiplier must be an integer >= 2 (2 doubles the frame rate), got {multiplier!r}"
            + ("; 1 would return the clip unchanged" if multiplier == 1 else "")
        )
    if multiplier > MAX_RATIO:
        raise MotionComicError(f"multiplier {multiplier} is above the {MAX_RATIO} one pass makes; interpolate twice "
                               f"(e.g. x{MAX_RATIO} then x{-(-multiplier // MAX_RATIO)})")
    if fps is not None and not fps > 0:
        raise MotionComicError(f"fps must be > 0, got {fps!r}")
    return MultiplierSchedule(multiplier)
