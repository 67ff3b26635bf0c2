"""The one entry: raise the frame rate of a clip, streaming over pairs in bounded memory.

``interpolate(frames, multiplier, method="flow", ...)`` returns an :class:`Interpolated` with the
frames, the new fps and what every output frame is (``"original"``, ``"interpolated"`` or
``"held"``). ``iter_interpolate`` is the streaming core: it takes any iterable of frames (e.g. a
generator reading a video) and yields output frames one by one, holding only the current pair,
its padded copies and the in-between frames of that pair: memory does not grow with clip length.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from .. import host
from ..errors import MotionComicError
from .base import Interpolator, crop_to, pad_to_multiple
from .cuts import DEFAULT_THRESHOLD, MAX_REPEATS, cut_score, difference
from .loop import check_loop, frames_in, total_out, without_seam
from .schedule import MAX_RATIO, make_schedule

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger(__name__)

METHODS = ("flow", "rife", "sgm_vfi", "crossfade")


@dataclass
class Interpolated:
    """Result of :func:`interpolate`.

    Attributes:
        frames: float ``[M, H, W, 3]`` (the input dtype), originals bit-identical.
        fps: output frame rate (None when no input fps was given with a multiplier).
        kinds: per output frame ``"original"``, ``"interpolated"`` or ``"held"`` (a copy of the
            nearest original, made instead of blending across a scene cut).
        cuts: input indices where a new shot starts (given or detected).
        multiplier: the multiplier used (None when resampling to a non-integer ratio).
    """

    frames: "torch.Tensor"
    fps: float | None
    kinds: list[str]
    cuts: list[int] = field(default_factory=list)
    multiplier: int | None = None

    @property
    def synthesized(self) -> list[int]:
        """Output indices of frames made by the interpolator."""
        return [i for i, k in enumerate(self.kinds) if k == "interpolated"]


def get_interpolator(method: str = "flow", model=None) -> Interpolator:
    """An :class:`Interpolator` for ``method``; ``model`` is a loaded one or a RIFE / SGM-VFI file."""
    if isinstance(model, Interpolator):
        return model
    if method == "flow":
        from .flow import FlowInterpolator

        return FlowInterpolator()
    if method == "crossfade":
        from .crossfade import CrossfadeInterpolator

        return CrossfadeInterpolator()
    if method == "rife":
        if model is None:
            raise MotionComicError("method 'rife' needs a file: pass model=<a RIFE 4.6+ flownet.pkl / rife4x.pth in "
                                   "models/vfi/> or a loaded interpolator (or use method='flow', which needs no weights)")
        from .rife.loader import load_rife

        return load_rife(model)
    if method == "sgm_vfi":
        if model is None:
            raise MotionComicError(
                "method 'sgm_vfi' needs a checkpoint: pass model=<path to models/vfi/*.pkl> or a loaded"
                " interpolator (or use method='flow', which needs no weights)"
            )
        try:
            from .sgm_vfi.loader import load_sgm_vfi
        except ImportError as exc:
            raise MotionComicError(f"SGM-VFI is not available in this install ({exc}); use method='flow'") from exc
        return load_sgm_vfi(model)
    raise MotionComicError(f"unknown interpolation method {method!r}; use one of {METHODS}")


_TOO_BIG = "Lower the multiplier or target fps, or interpolate a shorter clip (or parts of it)."


def interpolate(
    frames,
    multiplier: int | None = 2,
    method: str = "flow",
    model=None,
    *,
    target_fps: float | None = None,
    fps: float | None = None,
    cuts=None,
    cut_threshold: float = DEFAULT_THRESHOLD,
    max_depth: int | None = None,
    duplicates: float = 0.0,
    loop: str = "off",
) -> Interpolated:
    """Interpolate a clip.

    Args:
        frames: float ``[N, H, W, 3]`` in 0..1 (ComfyUI IMAGE), or a list/iterable of ``[H, W, 3]``
            / ``[1, H, W, 3]`` frames of one size. N >= 2.
        multiplier: integer >= 2: ``(N-1)·multiplier + 1`` frames out. Ignored with ``target_fps``.
        method: ``"flow"`` (optical flow, no weights), ``"rife"`` / ``"sgm_vfi"`` (need ``model``) or
            ``"crossfade"`` (plain blend, the baseline; ghosts on motion).
        model: a loaded :class:`Interpolator` (then ``method`` is ignored) or a RIFE / SGM-VFI file.
        target_fps: wanted output fps (needs ``fps``). An integer ratio becomes the multiplier;
            otherwise the clip is resampled at exactly ``target_fps``.
        fps: input frame rate (only used to compute the output fps / the ratio).
        cuts: None (no cut handling), ``"auto"`` (detect with ``cut_threshold``), or a list of
            input indices where a new shot starts. Across a cut nothing is blended: in-between
            frames hold the nearest original.
        max_depth: midpoint-only models, recursion depth for non-dyadic times (default
            ``ceil(log2(multiplier)) + 2``; 4 when resampling to a target fps).
        duplicates: 0 = off. Otherwise frames whose thumbnail differs from the last distinct frame
            by less than this many 8-bit levels (:func:`.cuts.difference`; 1.0 =
            :data:`.cuts.DUPLICATE_LEVELS`) are repeats of it (anime drawn on twos, frame-rate
            conversions by repetition): they are replaced by in-betweens timed between the distinct
            frames, so the motion plays evenly instead of in steps. Repeats at the very end stay held;
            a hold longer than :data:`.cuts.MAX_REPEATS` repeats is a pause and keeps its timing.
        loop: ``"off"``; ``"open"`` (the last frame leads back to the first: the seam gets its
            in-betweens, ``N·m`` frames) or ``"closed"`` (the last frame repeats the first: it is the
            seam and is left out, ``(N-1)·m`` frames), so the clip loops without a jump or a doubled
            frame (:mod:`.loop`). A cut detected at the seam is reported as index ``N``.
    Returns:
        :class:`Interpolated`.
    Raises:
        MotionComicError: bad frames, multiplier, fps or method (the message gives valid values).
    """
    import torch

    from ..media.video import check_fits

    schedule = make_schedule(None if target_fps else multiplier, fps, target_fps)
    check_loop(loop)
    interp = get_interpolator(method, model)
    kinds: list[str] = []
    used_cuts: list[int] = []
    if isinstance(frames, torch.Tensor):
        _check_batch(frames)
        n = frames.shape[0]
        total = total_out(schedule, n, loop)
        check_fits(total, frames.shape[2], frames.shape[1], "the interpolated clip", advice=_TOO_BIG,
                   device=frames.device)
        out = torch.empty((total, *frames.shape[1:]), dtype=frames.dtype, device=frames.device)
        stream = iter_interpolate(frames, interp, schedule, cuts=cuts, cut_threshold=cut_threshold,
                                  kinds=kinds, used_cuts=used_cuts, total=n, max_depth=max_depth,
                                  duplicates=duplicates, loop=loop)
        for j, frame in enumerate(stream):
            out[j] = frame[0]
        if len(kinds) != out.shape[0]:  # pragma: no cover - schedule and stream must agree
            raise RuntimeError(f"internal error: planned {out.shape[0]} frames, made {len(kinds)}")
    else:
        if isinstance(frames, (list, tuple)):
            _check_list(frames)
            h, w = frames[0].shape[-3:-1]
            check_fits(total_out(schedule, len(frames), loop), w, h, "the interpolated clip", advice=_TOO_BIG)
        pieces = list(iter_interpolate(frames, interp, schedule, cuts=cuts, cut_threshold=cut_threshold,
                                       kinds=kinds, used_cuts=used_cuts, max_depth=max_depth,
                                       duplicates=duplicates, loop=loop))
        out = torch.cat(pieces, 0)
    return Interpolated(out, schedule.out_fps(fps), kinds, used_cuts, schedule.multiplier)


def iter_interpolate(
    frames: Iterable,
    interp: Interpolator,
    schedule,
    *,
    cuts=None,
    cut_threshold: float = DEFAULT_THRESHOLD,
    kinds: list[str] | None = None,
    used_cuts: list[int] | None = None,
    total: int | None = None,
    max_depth: int | None = None,
    duplicates: float = 0.0,
    loop: str = "off",
) -> Iterator["torch.Tensor"]:
    """Yield output frames ``[1, H, W, 3]`` one by one (see :func:`interpolate` for arguments).

    ``schedule`` is a :func:`~.schedule.make_schedule` result or an integer multiplier. Original
    frames are yielded as they came in (not copies); synthesised ones are new tensors.

    ``kinds`` / ``used_cuts``, if given, are filled as frames are produced (leave them None for
    very long streams: nothing then grows with the clip length). Progress is reported
    per pair (``total`` = number of input frames if known) and cancel is honoured between pairs;
    the interpolator's caches are released at the end, on error and on cancel.

    With ``duplicates`` > 0, a frame that repeats the last distinct one (the *anchor*) is not used:
    its output slots (its in-betweens, and itself if the schedule keeps it) wait, as bare times,
    until the next distinct frame arrives, and are then synthesised between the anchor and that
    frame at their true times. Only times are held (at most :data:`.cuts.MAX_REPEATS` frames' worth:
    a longer hold is a pause, played as it is), and they are synthesised in pieces of at most
    :data:`.schedule.MAX_RATIO` (a pair's count at the largest multiplier), so memory stays flat
    whatever the clip holds.

    ``loop`` (:mod:`.loop`): ``"open"`` feeds the first frame again after the last (held until then),
    and both ``"open"`` and ``"closed"`` hold back one output frame to leave out the seam.
    """
    if not hasattr(schedule, "times"):  # a plain multiplier
        schedule = make_schedule(schedule)
    if check_loop(loop) == "off":
        return _stream(frames, interp, schedule, cuts, cut_threshold, kinds, used_cuts, total, max_depth,
                       duplicates)
    seen = [0]
    kinds = _Discard() if kinds is None else kinds
    if total is not None and loop == "open":
        total += 1
    stream = _stream(frames_in(frames, loop, seen), interp, schedule, cuts, cut_threshold, kinds, used_cuts, total,
                     max_depth, duplicates)
    return without_seam(stream, schedule, kinds, seen)


def _stream(frames, interp: Interpolator, schedule, cuts, cut_threshold: float, kinds, used_cuts,
            total: int | None, max_depth: int | None, duplicates: float) -> Iterator["torch.Tensor"]:
    """The body of :func:`iter_interpolate` (a generator: arguments are checked at the first frame)."""
    import torch

    auto = isinstance(cuts, str)
    if auto and cuts != "auto":
        raise MotionComicError(f"cuts must be None, 'auto' or a list of frame indices, got {cuts!r}")
    given = set() if cuts is None or auto else _cut_indices(cuts)
    if duplicates < 0:
        raise MotionComicError(f"duplicates must be 0 (off) or a difference in 8-bit levels (1.0 finds repeated "
                               f"frames), got {duplicates}")
    if kinds is None:
        kinds = _Discard()
    if used_cuts is None:
        used_cuts = _Discard()
    multiple = max(1, int(interp.multiple))
    device = getattr(interp, "device", None)
    m = getattr(schedule, "multiplier", None)
    # Resampling (no multiplier) asks for arbitrary times: 4 levels put them within 1/32.
    depth = max_depth or (math.ceil(math.log2(max(m, 2))) + 2 if m else 4)
    progress = host.Progress(max(1, (total or 0) - 1), "interpolate")
    prev = prev_pad = None  # the last distinct frame (the anchor) and its padded copy on the device
    anchor = 0  # its input index
    waiting: list[float] = []  # input times of the output slots that wait for the next distinct frame
    run = 0  # repeats of the anchor so far; more than MAX_REPEATS is a pause
    shape = None

    def on_device(frame):  # each input frame goes to the interpolator's device once
        x = frame if device is None else frame.to(device)
        return pad_to_multiple(x.float(), multiple)

    try:
        for i, raw in enumerate(frames):
            cur = _as_frame(raw, i)
            if shape is None:
                shape = cur.shape
            elif cur.shape != shape:
                raise MotionComicError(
                    f"frame {i} is {tuple(cur.shape[1:3])} (HxW) but frame 0 is {tuple(shape[1:3])}:"
                    " all frames of a clip must have the same size (resize them first)"
                )
            cur_pad = None
            if prev is not None:
                slots = waiting + [i - 1 + t for t in schedule.times(i - 1)]  # input times, after the anchor
                repeat = bool(duplicates) and i not in given and difference(prev, cur) < duplicates
                run = run + 1 if repeat else 0
                if repeat and run <= MAX_REPEATS:
                    waiting = slots + ([float(i)] if schedule.keeps_original(i) else [])
                    progress.step()
                    continue  # a repeat of the anchor: its slots wait for the next distinct frame
                # a distinct frame, or a hold longer than any drawing's: a pause, whose frames keep
                # their times (the waiting ones are filled between two near-equal frames: still)
                waiting = []
                is_cut = i in given or (auto and cut_score(prev, cur) > cut_threshold)
                if is_cut:
                    used_cuts.append(i)
                if slots and is_cut:  # nothing blended across a cut: repeats and the first half hold the anchor
                    for s in slots:
                        kinds.append("held")
                        yield (prev if s < i - 0.5 else cur).clone()
                elif slots:
                    cur_pad = on_device(cur)
                    span = i - anchor
                    times = [(s - anchor) / span for s in slots]
                    for k in range(0, len(times), MAX_RATIO):  # after repeats there can be more than m
                        made = _between(interp, prev_pad, cur_pad, times[k : k + MAX_RATIO], depth)
                        # one copy back per synthesised frame, to where the clip is
                        made = crop_to(made, shape[1], shape[2]).clamp(0, 1).to(device=cur.device,
                                                                                 dtype=cur.dtype)
                        for j in range(made.shape[0]):
                            kinds.append("interpolated")
                            yield made[j : j + 1]
                        del made
                progress.step()
            if schedule.keeps_original(i):
                kinds.append("original")
                yield cur
            prev, anchor = cur, i
            prev_pad = cur_pad if cur_pad is not None else on_device(cur)
        if prev is None:
            raise MotionComicError("no frames to interpolate (got an empty clip)")
        if shape is not None and i == 0:
            raise MotionComicError("interpolation needs at least 2 frames, got 1: there is no pair to fill in")
        for _ in waiting:  # repeats at the very end: no next drawing to move towards, they stay held
            kinds.append("held")
            yield prev.clone()
    finally:
        interp.release()
        if torch.cuda.is_available():
            host.soft_empty_cache()


class _Discard:
    """Stands in for the ``kinds`` / ``used_cuts`` lists when the caller does not want them."""

    def append(self, _item) -> None:
        pass

    def pop(self) -> None:
        pass


def _cut_indices(cuts) -> set[int]:
    try:
        out = {int(c) for c in cuts}
    except (TypeError, ValueError) as exc:
        raise MotionComicError(f"cuts must be None, 'auto' or a list of frame indices, got {cuts!r}") from exc
    bad = sorted(c for c in out if c < 1)
    if bad:
        raise MotionComicError(
            f"cut index {bad[0]} is invalid: a cut is given as the index of the first frame of the new shot (>= 1)"
        )
    return out


def _between(interp: Interpolator, a, b, times: Sequence[float], max_depth: int):
    """Frames at ``times`` between padded ``a`` and ``b``: ``[T, H, W, 3]`` float32."""
    import torch

    if not interp.midpoint_only:
        return interp.pair_times(a, b, times)
    # Recursive midpoints: 0.5, then 0.25/0.75 between the right neighbours, ... Exact for
    # dyadic times (power-of-two multipliers); others take the nearest time reached within
    # `max_depth` levels.
    cache = {Fraction(0): a, Fraction(1): b}
    picked = []
    for t in times:
        target = Fraction(t).limit_denominator(1 << 20)
        lo, hi = Fraction(0), Fraction(1)
        best = None
        for _ in range(max_depth):
            mid = (lo + hi) / 2
            if mid not in cache:
                cache[mid] = interp.pair(cache[lo], cache[hi], 0.5)
            if best is None or abs(mid - target) < abs(best - target):
                best = mid
            if mid == target:
                break
            lo, hi = (lo, mid) if target < mid else (mid, hi)
        picked.append(cache[best])
    return torch.cat(picked, 0)


def _as_frame(x, i: int):
    """One frame as ``[1, H, W, 3]`` float (where it is), with a clear error for anything else."""
    import torch

    if not isinstance(x, torch.Tensor):
        raise MotionComicError(f"frame {i} is a {type(x).__name__}, expected a torch tensor [H, W, 3]")
    if x.ndim == 3:
        x = x.unsqueeze(0)
    if x.ndim != 4 or x.shape[0] != 1 or x.shape[-1] != 3:
        raise MotionComicError(f"frame {i} has shape {tuple(x.shape)}; expected [H, W, 3] or [1, H, W, 3] (RGB)")
    if not x.is_floating_point():
        raise MotionComicError(f"frame {i} is {x.dtype}; expected float values in 0..1 (ComfyUI IMAGE)")
    return x.detach()


def _check_batch(frames) -> None:
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise MotionComicError(
            f"frames must be [N, H, W, 3] (a ComfyUI IMAGE batch, RGB), got shape {tuple(frames.shape)}"
        )
    if not frames.is_floating_point():
        raise MotionComicError(f"frames are {frames.dtype}; expected float values in 0..1 (ComfyUI IMAGE)")
    if frames.shape[0] < 2:
        raise MotionComicError(
            f"interpolation needs at least 2 frames, got {frames.shape[0]}: there is no pair to fill in"
        )
    if frames.shape[1] < 1 or frames.shape[2] < 1:
        raise MotionComicError(f"frames of {frames.shape[1]}x{frames.shape[2]} are empty")


def _check_list(frames: Sequence) -> None:
    if len(frames) < 2:
        raise MotionComicError(f"interpolation needs at least 2 frames, got {len(frames)}")
    sizes = [tuple(getattr(f, "shape", ())[-3:-1]) for f in frames]
    odd = [i for i, s in enumerate(sizes) if s != sizes[0]]
    if odd:
        raise MotionComicError(
            f"frames of different sizes: frame 0 is {sizes[0]} (HxW) but frame {odd[0]} is {sizes[odd[0]]};"
            " resize or crop them to one size first"
        )
