"""The ``interpolate`` entry: frame counts, fps, recursive midpoints, target fps, bad input,
bounded memory on long streams, cancel. Small frames; the real flow interpolator unless the test
is about what the entry asks of an interpolator (then a tiny midpoint-only subclass records it)."""
from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest
import torch

import tiny_interpolation as ti
from motioncomic import host
from motioncomic.errors import Cancelled, MotionComicError
from motioncomic.interpolation import interpolate
from motioncomic.interpolation.base import Interpolator
from motioncomic.interpolation.clip import iter_interpolate
from motioncomic.interpolation.flow import FlowInterpolator


class MidpointOnly(Interpolator):
    """A model trained only at t = 0.5 (like SGM-VFI): records every call, pads to ``multiple``."""

    name = "recording midpoint"
    midpoint_only = True

    def __init__(self, multiple: int = 1):
        self.multiple = multiple
        self.calls: list[tuple[float, tuple]] = []
        self.released = 0

    def pair(self, a, b, t):
        self.calls.append((t, tuple(a.shape)))
        if t != 0.5:
            raise AssertionError(f"midpoint-only model asked for t={t}")
        return (a + b) / 2

    def release(self):
        self.released += 1


def _frames(n: int, h: int = 24, w: int = 32) -> torch.Tensor:
    return ti.clip(range(n), h=h, w=w)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_frame_count_fps_and_originals(m):
    keys = _frames(4)
    out = interpolate(keys, m, fps=8.0)
    assert out.frames.shape == ((4 - 1) * m + 1, 24, 32, 3)
    assert out.frames.dtype == keys.dtype
    assert out.fps == 8.0 * m and out.multiplier == m
    assert [i for i, k in enumerate(out.kinds) if k == "original"] == [0, m, 2 * m, 3 * m]
    for j in range(4):
        assert torch.equal(out.frames[j * m], keys[j])
    assert len(out.synthesized) == 3 * (m - 1)
    assert float(out.frames.min()) >= 0 and float(out.frames.max()) <= 1


@pytest.mark.parametrize("m, calls_per_pair", [(2, 1), (4, 3), (8, 7)])
def test_midpoint_only_model_is_asked_only_for_half_recursively(m, calls_per_pair):
    vfi = MidpointOnly()
    keys = _frames(3)
    out = interpolate(keys, m, model=vfi)
    assert {t for t, _ in vfi.calls} == {0.5}
    assert len(vfi.calls) == 2 * calls_per_pair  # each dyadic time made once, reused
    assert out.synthesized == [i for i in range(2 * m + 1) if i % m]
    # (a+b)/2 recursively is the exact linear blend at dyadic times
    for k in range(1, m):
        expect = keys[0] * (1 - k / m) + keys[1] * (k / m)
        assert torch.allclose(out.frames[k], expect, atol=1e-6)
    assert vfi.released >= 1


def test_midpoint_only_with_multiplier_3_uses_nearest_dyadic_time():
    vfi = MidpointOnly()
    keys = _frames(2)
    out = interpolate(keys, 3, model=vfi)
    assert {t for t, _ in vfi.calls} == {0.5} and out.frames.shape[0] == 4
    for k, t in ((1, 1 / 3), (2, 2 / 3)):
        w = float(((out.frames[k] - keys[0]).flatten() @ (keys[1] - keys[0]).flatten())
                  / ((keys[1] - keys[0]).flatten() @ (keys[1] - keys[0]).flatten()))
        assert abs(w - t) <= 1 / 16 + 1e-6, (k, w)


def test_odd_sizes_are_padded_to_the_models_multiple_and_cropped_back():
    vfi = MidpointOnly(multiple=8)
    keys = _frames(3, h=33, w=47)
    out = interpolate(keys, 2, model=vfi)
    assert {shape for _, shape in vfi.calls} == {(1, 40, 48, 3)}
    assert out.frames.shape == (5, 33, 47, 3)
    assert torch.equal(out.frames[2], keys[1])
    flow = interpolate(keys, 3)  # flow: any size, no padding
    assert flow.frames.shape == (7, 33, 47, 3) and torch.equal(flow.frames[6], keys[2])


def test_target_fps():
    keys = _frames(5)
    # integer ratio -> multiplier
    out = interpolate(keys, None, target_fps=24.0, fps=8.0)
    assert out.multiplier == 3 and out.fps == 24.0 and out.frames.shape[0] == 13
    # 24 -> 60: 2.5x; every other original lands on an output time and is kept bit-identical
    out = interpolate(keys, 2, target_fps=60.0, fps=24.0)  # multiplier ignored with target_fps
    assert out.fps == 60.0 and out.multiplier is None
    assert out.frames.shape[0] == 4 * 5 // 2 + 1
    assert [i for i, k in enumerate(out.kinds) if k == "original"] == [0, 5, 10]
    assert torch.equal(out.frames[5], keys[2]) and torch.equal(out.frames[10], keys[4])
    with pytest.raises(MotionComicError, match="needs the input clip's fps"):
        interpolate(keys, 2, target_fps=60.0)
    with pytest.raises(MotionComicError, match="must be above the input fps"):
        interpolate(keys, 2, target_fps=12.0, fps=24.0)


@pytest.mark.parametrize("bad, match", [
    (lambda: [torch.rand(24, 32, 3), torch.rand(24, 30, 3)], "different sizes"),
    (lambda: torch.rand(1, 24, 32, 3), "at least 2 frames"),
    (lambda: [torch.rand(24, 32, 3)], "at least 2 frames"),
    (lambda: torch.rand(3, 24, 32, 4), r"\[N, H, W, 3\]"),
    (lambda: torch.randint(0, 255, (3, 24, 32, 3), dtype=torch.uint8), "float values"),
])
def test_bad_frames_are_refused_clearly(bad, match):
    with pytest.raises(MotionComicError, match=match):
        interpolate(bad(), 2)


def test_different_sizes_in_a_stream_are_refused():
    frames = iter([torch.rand(24, 32, 3), torch.rand(24, 32, 3), torch.rand(20, 32, 3)])
    with pytest.raises(MotionComicError, match=r"frame 2 is \(20, 32\).*same size"):
        interpolate(frames, 2)


@pytest.mark.parametrize("m", [0, 1, -2, 2.5, True, "2"])
def test_bad_multiplier(m):
    with pytest.raises(MotionComicError, match="multiplier"):
        interpolate(_frames(2), m)


def test_rate_ratios_beyond_one_pass_are_refused_with_the_limit():
    """A stranger's workflow may say 240 fps from 0.1: thousands of frames per input frame."""
    with pytest.raises(MotionComicError, match=r"2400\.0x the input's 0\.1 fps; one pass makes at most 16x"):
        interpolate(_frames(2), target_fps=240.0, fps=0.1)
    with pytest.raises(MotionComicError, match="multiplier 40 is above the 16.*x16 then x3"):
        interpolate(_frames(2), 40)
    assert interpolate(_frames(2), 16).frames.shape[0] == 17  # the limit itself is allowed


@pytest.mark.parametrize("as_list", [False, True])
def test_an_output_that_would_not_fit_is_refused_before_anything_is_made(monkeypatch, as_list):
    import motioncomic.media.video as mv

    model = MidpointOnly()
    monkeypatch.setattr(mv, "available_memory", lambda: 64 * 2**20)  # 64 MiB
    frames = _frames(40, h=96, w=128)  # x16: 625 frames of 96x128 float32 = 88 MiB > half of 64
    with pytest.raises(MotionComicError, match=r"interpolated clip has about 625 frames of 128x96.*Lower the "
                                               r"multiplier"):
        interpolate(list(frames) if as_list else frames, 16, model=model)
    assert model.calls == []  # refused before the first pair


def test_bad_method_and_cuts():
    with pytest.raises(MotionComicError, match="unknown interpolation method"):
        interpolate(_frames(2), 2, method="film")
    with pytest.raises(MotionComicError, match="method 'rife' needs a file"):
        interpolate(_frames(2), 2, method="rife")
    with pytest.raises(MotionComicError, match="needs a checkpoint"):
        interpolate(_frames(2), 2, method="sgm_vfi")
    with pytest.raises(MotionComicError, match="cut index 0"):
        interpolate(_frames(2), 2, cuts=[0])


def _stream(n: int):
    rng = np.random.default_rng(0)
    base = rng.random((16, 16, 3), dtype=np.float32)
    for i in range(n):  # numpy-backed, so tracemalloc sees the frames too
        if i % 20 == 0:
            gc.collect()  # collectable cycles (e.g. exception tracebacks) must not count as held
        yield torch.from_numpy(np.roll(base, i % 16, axis=1).copy())


def _peak(n: int, interp) -> tuple[int, int]:
    tracemalloc.reset_peak()
    count = 0
    for frame in iter_interpolate(_stream(n), interp, 2):
        assert frame.shape == (1, 16, 16, 3)
        count += 1
    return count, tracemalloc.get_traced_memory()[1]


@pytest.mark.parametrize("method, short, long", [("crossfade", 200, 2000), ("flow", 40, 400)])
def test_long_stream_memory_does_not_grow(method, short, long):
    """Streaming machinery over 2,000 frames (cheap blend), the flow interpolator over 400."""
    from motioncomic.interpolation.clip import get_interpolator

    interp = FlowInterpolator(preset="ultrafast", min_flow_side=0) if method == "flow" else get_interpolator(method)
    gc.collect()
    gc.freeze()  # the collections during the stream then only look at new objects: fast
    tracemalloc.start()
    try:
        _peak(20, interp)  # warm-up: one-time allocations (OpenCV, numpy caches)
        n_small, small = _peak(short, interp)
        n_big, big = _peak(long, interp)
    finally:
        tracemalloc.stop()
        gc.unfreeze()
    assert (n_small, n_big) == (2 * short - 1, 2 * long - 1)
    # Holding the stream would add (long - short) * 2 frames (5 MB for crossfade); allow the noise
    # of a few frames' worth of allocator and gc timing, no more.
    frame_bytes = 16 * 16 * 3 * 4
    assert big <= small + 16 * frame_bytes, (small, big)


def test_cancel_mid_clip():
    host.clear_cancel()
    made = []

    def frames():
        for i in range(20):
            if i == 5:
                host.request_cancel()
            yield torch.rand(16, 16, 3)

    vfi = MidpointOnly()
    with pytest.raises(Cancelled):
        for f in iter_interpolate(frames(), vfi, 2):
            made.append(f)
    assert 8 <= len(made) <= 12  # stopped right after the pair in flight
    assert vfi.released == 1  # caches released on cancel
    host.check_cancel()  # the request was consumed: the next job runs


def test_midpoint_only_model_resampled_to_a_target_fps():
    vfi = MidpointOnly()
    keys = _frames(5)
    out = interpolate(keys, None, model=vfi, target_fps=60.0, fps=24.0)
    assert {t for t, _ in vfi.calls} == {0.5}
    assert out.frames.shape[0] == 11 and out.fps == 60.0
    assert [i for i, k in enumerate(out.kinds) if k == "original"] == [0, 5, 10]
    # output 1 shows input time 0.4: the blend weight is within 1/32 of it (4 midpoint levels)
    d = (keys[1] - keys[0]).flatten()
    w = float((out.frames[1] - keys[0]).flatten() @ d / (d @ d))
    assert abs(w - 0.4) <= 1 / 32 + 1e-6, w


# ----------------------------------------------------------------------------- bad input, sizes, devices
@pytest.mark.parametrize("method", ["flow", "crossfade"])
def test_times_outside_zero_one_are_refused(method):
    from motioncomic.interpolation.clip import get_interpolator

    interp = get_interpolator(method)
    a, b = torch.rand(1, 8, 8, 3), torch.rand(1, 8, 8, 3)
    for t in (0.0, 1.0, -0.5, 2.0):
        with pytest.raises(MotionComicError, match=r"t=.* is outside \(0, 1\)"):
            interp.pair(a, b, t)


@pytest.mark.parametrize("h, w", [(1, 1), (1, 7), (37, 53)])
@pytest.mark.parametrize("method", ["flow", "crossfade"])
def test_one_pixel_and_odd_sizes(method, h, w):
    frames = torch.rand(3, h, w, 3)
    res = interpolate(frames, 3, method=method)
    assert res.frames.shape == (7, h, w, 3) and torch.isfinite(res.frames).all()
    assert torch.equal(res.frames[3], frames[1]) and 0 <= res.frames.min() and res.frames.max() <= 1


def test_frames_of_different_sizes_are_refused_in_lists_and_streams():
    with pytest.raises(MotionComicError, match="different sizes"):
        interpolate([torch.rand(8, 8, 3), torch.rand(8, 9, 3)], 2)
    with pytest.raises(MotionComicError, match=r"frame 2 is \(9, 8\).*same size"):
        list(iter_interpolate((torch.rand(s, 8, 3) for s in (8, 8, 9)), FlowInterpolator(device="cpu"), 2))


class DeviceSpy(Interpolator):
    """Records the tensors it is given, to see where the entry puts frames and how often."""

    name = "device spy"
    device = torch.device("cpu")

    def __init__(self):
        self.seen = []

    def pair_times(self, a, b, times):
        self.seen.append((a, b))
        return torch.cat([(a * (1 - t) + b * t) for t in times], 0)

    def pair(self, a, b, t):  # pragma: no cover - pair_times is what the entry calls
        raise AssertionError


def test_each_frame_goes_to_the_interpolator_device_once():
    spy = DeviceSpy()
    out = interpolate(torch.rand(5, 6, 10, 3).double(), 2, model=spy)
    assert out.frames.dtype == torch.float64 and out.frames.shape == (9, 6, 10, 3)
    assert all(a.device == spy.device and a.dtype == torch.float32 for a, _ in spy.seen)
    # the right frame of a pair is the left frame of the next one: moved (and converted) once
    assert all(spy.seen[i][1] is spy.seen[i + 1][0] for i in range(len(spy.seen) - 1))


def test_a_ten_thousand_frame_clip_streams_in_flat_memory():
    """10,000 frames streamed: the entry never holds more than the current pair of inputs."""
    import weakref

    alive: list = []

    def frames():
        for i in range(10_000):
            arr = np.full((4, 6, 3), (i % 97) / 97, np.float32)
            alive.append(weakref.ref(arr))
            yield torch.from_numpy(arr)

    most = count = 0
    for count, _ in enumerate(iter_interpolate(frames(), get_crossfade(), 2, total=10_000), 1):
        if count % 500 == 0:
            gc.collect()
            most = max(most, sum(r() is not None for r in alive))
            alive[:] = [r for r in alive if r() is not None]
    assert count == 2 * 10_000 - 1
    assert most <= 3, f"{most} input frames alive at once"
    res = interpolate(torch.rand(10_000, 2, 3, 3), 2, method="crossfade")  # a 10,000-frame tensor clip
    assert res.frames.shape == (19_999, 2, 3, 3) and len(res.kinds) == 19_999


def get_crossfade():
    from motioncomic.interpolation.clip import get_interpolator

    return get_interpolator("crossfade")
