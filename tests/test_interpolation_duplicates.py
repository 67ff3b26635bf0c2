"""Repeated frames (anime drawn on twos, frame-rate conversions by repetition): with ``duplicates``
the repeats are replaced by in-betweens at their true times, so motion plays evenly."""
from __future__ import annotations

import pytest
import torch

import tiny_interpolation as ti
from motioncomic.errors import MotionComicError
from motioncomic.interpolation import interpolate
from motioncomic.interpolation.clip import iter_interpolate
from motioncomic.interpolation.cuts import DUPLICATE_LEVELS, difference
from motioncomic.interpolation.flow import FlowInterpolator

SLOW = dict(h=96, w=128, speed=0.12, spin_deg=4.0)  # ~9 px per frame: 18 px between drawings on twos


def _on_twos(n: int):
    """Frame k shows the drawing of time 2*floor(k/2) (each drawing held for two frames), and the
    smooth truth of every frame k."""
    return ti.clip([2 * (k // 2) for k in range(n)], **SLOW), ti.clip(list(range(n)), **SLOW)


def test_repeats_are_found_and_distinct_frames_are_not():
    held, truth = _on_twos(6)
    assert difference(held[0], held[1]) == 0.0 and difference(held[0], held[2]) > 3 * DUPLICATE_LEVELS
    noisy = (held[1] + 0.002 * torch.randn_like(held[1])).clamp(0, 1)  # compression-like noise
    assert difference(held[0], noisy) < DUPLICATE_LEVELS


def test_on_twos_plays_evenly_and_the_repeats_become_in_betweens():
    held, truth = _on_twos(9)  # drawings at 0, 2, 4, 6, 8
    flow = FlowInterpolator(device="cpu")
    out = interpolate(held, 2, model=flow, duplicates=DUPLICATE_LEVELS)
    plain = interpolate(held, 2, model=flow)
    assert out.frames.shape == plain.frames.shape == (17, 96, 128, 3)
    # output frame 2k shows input time k: the repeats (odd k) are now in-betweens of their neighbours
    assert [out.kinds[2 * k] for k in range(9)] == ["original", "interpolated"] * 4 + ["original"]
    for k in (0, 2, 4, 6, 8):
        assert torch.equal(out.frames[2 * k], held[k])
    a, b = held[2:3], held[4:5]
    want = flow.pair_times(a, b, [0.25, 0.5, 0.75])  # times 2.5, 3, 3.5 between the drawings at 2 and 4
    torch.testing.assert_close(out.frames[5:8], want, atol=0, rtol=0)
    # against the smooth truth, the repeats were a step behind; the in-betweens are much closer
    gain = [ti.psnr(out.frames[2 * k], truth[k]) - ti.psnr(held[k], truth[k]) for k in (1, 3, 5, 7)]
    assert min(gain) > 6.0, gain  # measured +8.5 to +11.9 dB


def test_repeats_at_the_end_stay_held_and_a_cut_is_not_blended():
    frames = ti.clip([0, 1, 1, 1], **SLOW)
    out = interpolate(frames, 2, duplicates=DUPLICATE_LEVELS)
    assert out.kinds[-4:] == ["held"] * 4 and all(torch.equal(f, frames[1]) for f in out.frames[-4:])
    cut = ti.clip([0, 1, 1, 3], cut_at=2.5, **SLOW)  # frame 3 is another shot
    out = interpolate(cut, 2, duplicates=DUPLICATE_LEVELS, cuts="auto")
    assert out.cuts == [3]
    assert torch.equal(out.frames[3], cut[1]) and torch.equal(out.frames[4], cut[1])  # the repeat: its anchor
    assert torch.equal(out.frames[5], cut[3]) and out.kinds[3:6] == ["held"] * 3  # t = 0.75 of the last pair


def test_a_long_still_clip_streams_and_target_fps_counts_hold():
    still = ti.clip([0], **SLOW).expand(300, -1, -1, -1)
    n = sum(1 for _ in iter_interpolate(still, FlowInterpolator(device="cpu"), 2, duplicates=DUPLICATE_LEVELS))
    assert n == 2 * 300 - 1
    held, _ = _on_twos(9)
    out = interpolate(held, None, fps=8.0, target_fps=20.0, duplicates=DUPLICATE_LEVELS)
    assert out.frames.shape[0] == 21 and out.fps == 20.0  # as without: (9 - 1) * 2.5 + 1
    with pytest.raises(MotionComicError, match="duplicates must be 0"):
        interpolate(held, 2, duplicates=-1.0)


def test_the_interpolate_node_takes_the_threshold_as_an_optional_input():
    from motioncomic.nodes import NODE_CLASS_MAPPINGS as nodes

    node = nodes["MotionComicInterpolate"]
    spec = node.INPUT_TYPES()["optional"]["duplicate_threshold"]
    assert spec[0] == "FLOAT" and spec[1]["default"] == 0.0  # off unless asked: old graphs are unchanged
    held, _ = _on_twos(5)
    interp = FlowInterpolator(device="cpu")
    plain, _, _ = node().interpolate(held, 8.0, interp, 2, 0.0, 0.0)
    even, fps, _ = node().interpolate(held, 8.0, interp, 2, 0.0, 0.0, duplicate_threshold=DUPLICATE_LEVELS)
    assert even.shape == plain.shape and fps == 16.0
    assert torch.equal(plain[2], held[1]) and not torch.equal(even[2], held[1])  # the repeat became an in-between


def test_a_hold_longer_than_a_drawing_is_a_pause_and_keeps_its_timing():
    # drawing 1 held for 6 frames (5 repeats > MAX_REPEATS): a pause in the motion, not animation on
    # twos; the motion after it must not start early
    frames = ti.clip([0, 1, 1, 1, 1, 1, 1, 2, 3], **SLOW)
    flow = FlowInterpolator(device="cpu")
    out = interpolate(frames, 2, model=flow, duplicates=DUPLICATE_LEVELS)
    assert out.frames.shape[0] == 17
    for k in range(1, 7):  # every output slot of the pause shows drawing 1
        torch.testing.assert_close(out.frames[2 * k], frames[1], atol=2e-3, rtol=0)
    for k in range(1, 6):
        torch.testing.assert_close(out.frames[2 * k + 1], frames[1], atol=2e-3, rtol=0)
    # from the pause's last frame on, each pair is interpolated at its own times, as without duplicates
    torch.testing.assert_close(out.frames[13], flow.pair(frames[6:7], frames[7:8], 0.5)[0], atol=0, rtol=0)
    assert out.kinds[14] == out.kinds[16] == "original" and torch.equal(out.frames[14], frames[7])


class _Counting(FlowInterpolator):
    """Records how many times each synthesis call is asked for."""

    def __init__(self):
        super().__init__(device="cpu")
        self.calls: list[int] = []

    def pair_times(self, a, b, times):
        self.calls.append(len(times))
        return super().pair_times(a, b, times)


def test_the_work_per_call_stays_bounded_after_repeats():
    # on fours (3 repeats per drawing) at x16: 4 * 16 - 1 slots wait for each next drawing
    frames = ti.clip([4 * (k // 4) for k in range(9)], **SLOW)
    interp = _Counting()
    out = interpolate(frames, 16, model=interp, duplicates=DUPLICATE_LEVELS)
    assert out.frames.shape[0] == 8 * 16 + 1
    assert max(interp.calls) == 16 and sum(interp.calls) == 2 * (4 * 16 - 1)  # 2 drawings to move to
    assert out.kinds.count("held") == 0 and out.kinds.count("original") == 3  # drawings at 0, 4, 8
