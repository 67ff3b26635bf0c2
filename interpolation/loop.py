"""Clips that loop (idle animations, Open-Sora's loop conditioning): the seam between the last frame
and the first gets its in-betweens too, and no frame is shown twice when the clip repeats.

* ``"open"``: the last frame leads back to the first. The first frame is fed again after the last,
  so the seam pair gets in-betweens like any other; the replayed first frame itself is not output
  (the loop shows it when it starts over). ``N·m`` frames at a multiplier ``m``.
* ``"closed"``: the last frame *is* the first one again (a clip made to loop ends on its start).
  It is the seam: the in-betweens up to it are made, it is not output. ``(N-1)·m`` frames.

Resampling to a target fps drops the seam only where an output time falls on it. Used by
:func:`.clip.iter_interpolate`; pure Python, holds one frame (open: the first one) at most.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from ..errors import MotionComicError

LOOPS = ("off", "open", "closed")


def check_loop(loop: str) -> str:
    if loop not in LOOPS:
        raise MotionComicError(f"loop must be one of {LOOPS} (open: the last frame leads back to the first; closed: "
                               f"the last frame repeats the first), got {loop!r}")
    return loop


def frames_in(frames: Iterable, loop: str, seen: list[int]) -> Iterator:
    """The input frames, then (``open``) the first one again; ``seen[0]`` counts what went in."""
    first = None
    for frame in frames:
        if seen[0] == 0:
            first = frame
        seen[0] += 1
        yield frame
    if seen[0] == 1:
        raise MotionComicError("a loop needs at least 2 frames, got 1: there is nothing to move between")
    if loop == "open" and seen[0]:
        seen[0] += 1
        yield first


def _seam_is_output(schedule, fed: int) -> bool:
    """Whether an output time falls on the last of ``fed`` frames fed in (the seam)."""
    return schedule.keeps_original(fed - 1)


def total_out(schedule, n: int, loop: str) -> int:
    """How many frames the stream yields for ``n`` input frames."""
    if loop == "off":
        return schedule.count(n)
    fed = n + 1 if loop == "open" else n
    return schedule.count(fed) - (1 if _seam_is_output(schedule, fed) else 0)


def without_seam(stream: Iterator, schedule, kinds, seen: list[int]) -> Iterator:
    """``stream`` less its last frame when that frame is the seam: the frame at the input time of the
    last frame fed in, which the schedule keeps only when an output time falls on it (then it is
    the last one out, whatever its kind)."""
    try:
        last = None
        for frame in stream:
            if last is not None:
                yield last
            last = frame
        if last is None:
            return
        if _seam_is_output(schedule, seen[0]):
            kinds.pop()
        else:
            yield last
    finally:
        stream.close()
