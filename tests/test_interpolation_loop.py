"""Clips that loop: ``loop="open"`` gives the seam (last frame -> first) its in-betweens, and
``loop="closed"`` (the last frame repeats the first) leaves the seam out, so the looped clip plays
without a jump and without a doubled frame."""
from __future__ import annotations

import math

import pytest
import torch

import tiny_interpolation as ti
from motioncomic.errors import MotionComicError
from motioncomic.interpolation import interpolate
from motioncomic.interpolation.clip import iter_interpolate
from motioncomic.interpolation.cuts import DUPLICATE_LEVELS
from motioncomic.interpolation.flow import FlowInterpolator
from motioncomic.interpolation.schedule import make_schedule

PERIOD = 24  # frames per turn of the sprite's path: frame 24 shows what frame 0 shows
LOOP = dict(h=96, w=128, speed=2 * math.pi / PERIOD, spin_deg=360.0 / PERIOD)


def _steps(frames: torch.Tensor) -> torch.Tensor:
    """Mean absolute change from each frame to the next, the last one to the first included."""
    return (frames - frames.roll(-1, 0)).abs().mean(dim=(1, 2, 3))


@pytest.fixture(scope="module")
def flow():
    return FlowInterpolator(device="cpu")


def test_open_loop_fills_the_seam(flow):
    frames = ti.clip(range(PERIOD), **LOOP)  # one turn, the last frame leads back to the first
    off = interpolate(frames, 2, model=flow)
    out = interpolate(frames, 2, model=flow, loop="open")
    assert out.frames.shape[0] == 2 * PERIOD and len(out.kinds) == 2 * PERIOD
    torch.testing.assert_close(out.frames[: 2 * PERIOD - 1], off.frames, atol=0, rtol=0)  # the rest: as without
    assert out.kinds[-1] == "interpolated" and out.fps is None
    seam = out.frames[-1]  # between frame 11 and frame 0 (= 12): time 11.5
    truth = ti.clip([PERIOD - 0.5], **LOOP)[0]
    fade = 0.5 * (frames[-1] + frames[0])
    assert ti.psnr(seam, truth) > ti.psnr(fade, truth) + 2.0
    steps = _steps(out.frames)  # played in a loop, the two seam steps are like the ones before them
    assert 0.75 < steps[-1] / steps[-3] < 1.25 and 0.75 < steps[-2] / steps[-3] < 1.25  # measured 0.91, 0.92
    # without the loop option, the loop jumps: the step from the last frame to the first is doubled
    off_steps = _steps(off.frames)
    assert off_steps[-1] / off_steps[-2] > 1.35  # measured 1.53


def test_closed_loop_leaves_out_the_seam(flow):
    frames = ti.clip(range(PERIOD + 1), **LOOP)  # ends on its start (as Open-Sora's loop conditioning)
    assert ti.psnr(frames[-1], frames[0]) > 40
    off = interpolate(frames, 3, model=flow)
    out = interpolate(frames, 3, model=flow, loop="closed")
    assert out.frames.shape[0] == 3 * PERIOD == off.frames.shape[0] - 1
    torch.testing.assert_close(out.frames, off.frames[:-1], atol=0, rtol=0)
    assert out.kinds == off.kinds[:-1]
    steps = _steps(out.frames)
    assert steps.min() > 0.3 * steps.median()  # no doubled frame where it starts over
    assert _steps(off.frames).min() < 0.05 * steps.median()  # kept, the seam frame repeats frame 0


def test_loop_streams_from_a_generator_and_counts_agree(flow):
    frames = ti.clip(range(PERIOD), **LOOP)
    want = interpolate(frames, 2, model=flow, loop="open")
    kinds = []
    got = list(iter_interpolate((f for f in frames), flow, 2, kinds=kinds, loop="open", total=PERIOD))
    assert len(got) == 2 * PERIOD and kinds == want.kinds
    torch.testing.assert_close(torch.cat(got), want.frames, atol=0, rtol=0)
    assert torch.equal(got[0][0], frames[0])  # the first frame, as it came in


@pytest.mark.parametrize("n, fps, target, want", [
    (12, 8.0, 20.0, 30),  # 12 frames of a loop at 8 fps = 1.5 s: 30 frames at 20 fps, the seam time 12 is left out
    (11, 8.0, 12.0, 17),  # 11 frames = 1.375 s at 12 fps: times 0 .. 16/12, none falls on the seam
])
def test_open_loop_resampled_to_a_target_fps(n, fps, target, want):
    frames = ti.clip(range(n), **LOOP)
    out = interpolate(frames, fps=fps, target_fps=target, loop="open")
    assert out.frames.shape[0] == len(out.kinds) == want and out.fps == target
    ratio = target / fps
    last_time = (want - 1) / ratio  # the last output frame shows input time < n, the replayed first frame
    assert last_time < n
    sched = make_schedule(None, fps, target)
    assert sched.count(n + 1) - want == (1 if sched.keeps_original(n) else 0)


def test_a_cut_at_the_seam_is_not_blended(flow):
    frames = ti.clip([0, 1, 2, 3, 4], cut_at=3.5, **LOOP)  # the last frame is another shot
    out = interpolate(frames, 2, model=flow, cuts="auto", loop="open")
    assert out.cuts == [4, 5]  # 5: the first frame coming round again
    assert out.kinds[-1] == "held" and torch.equal(out.frames[-1], frames[0])  # t = 0.5 holds the later frame


def test_repeats_before_the_seam_move_towards_the_first_frame(flow):
    frames = ti.clip([0, 0, 2, 2, 4, 4], **LOOP)  # on twos; the last drawing leads back to the first
    out = interpolate(frames, 2, model=flow, duplicates=DUPLICATE_LEVELS, loop="open")
    assert out.frames.shape[0] == 12 and "held" not in out.kinds
    closed = interpolate(frames, 2, model=flow, duplicates=DUPLICATE_LEVELS)
    assert closed.kinds[-2:] == ["held"] * 2  # without the loop they have nothing to move towards


def test_bad_loop_values():
    frames = ti.clip([0, 1], **LOOP)
    with pytest.raises(MotionComicError, match=r"loop must be one of \('off', 'open', 'closed'\)"):
        interpolate(frames, 2, loop="sideways")
    with pytest.raises(MotionComicError, match="a loop needs at least 2 frames, got 1"):
        list(iter_interpolate(iter([frames[0]]), FlowInterpolator(device="cpu"), 2, loop="open"))


def test_the_interpolate_node_takes_loop_as_an_optional_input(flow):
    from motioncomic.interpolation.loop import LOOPS
    from motioncomic.nodes import NODE_CLASS_MAPPINGS as nodes
    from motioncomic.nodes import interpolation as node_file

    node = nodes["MotionComicInterpolate"]
    spec = node.INPUT_TYPES()["optional"]["loop"]
    assert list(spec[0]) == list(LOOPS) == list(node_file.LOOPS) and spec[1]["default"] == "off"  # old graphs unchanged
    frames = ti.clip(range(6), **LOOP)
    plain, fps, _ = node().interpolate(frames, 8.0, flow, 2, 0.0, 0.0)
    looped, fps2, video = node().interpolate(frames, 8.0, flow, 2, 0.0, 0.0, loop="open")
    assert plain.shape[0] == 11 and looped.shape[0] == 12 and fps == fps2 == 16.0
    torch.testing.assert_close(looped[:11], plain, atol=0, rtol=0)
    with pytest.raises(MotionComicError, match="loop must be one of"):
        node().interpolate(frames, 8.0, flow, 2, 0.0, 0.0, loop="twice")
