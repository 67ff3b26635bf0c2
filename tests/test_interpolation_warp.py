"""The weight-free interpolator's CPU sampling (OpenCV) equals torch's (the path it takes on a GPU):
warps with and without the sharp kernel, at the border, for any channel count, the resizes, and the
whole flow interpolator on both paths."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from motioncomic.interpolation.flow import resize
from motioncomic.interpolation.warp import backwarp, warp_frames


def _smooth(c: int, h: int = 40, w: int = 56, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.rand(2, c, h // 4, w // 4, generator=g), size=(h, w), mode="bicubic",
                         align_corners=False).clamp(0, 1)


@pytest.mark.parametrize("c", [1, 3, 5])
@pytest.mark.parametrize("sharp", [False, True])
def test_opencv_warp_equals_grid_sample(c, sharp):
    x = _smooth(c)
    g = torch.Generator().manual_seed(1)
    flow = torch.randn(2, 2, 40, 56, generator=g) * 6.0  # reaches past the border too
    ours, torch_path = warp_frames(x, flow, sharp), backwarp(x, flow, sharp)
    assert ours.shape == torch_path.shape == x.shape and ours.dtype == x.dtype
    # OpenCV places samples to 1/32 pixel: the difference is that rounding, not another kernel or border
    assert (ours - torch_path).abs().max() < 0.02 and (ours - torch_path).abs().mean() < 2e-3
    assert (warp_frames(x, torch.zeros_like(flow), sharp) - x).abs().max() < 1e-5  # zero flow: the frame


def test_resize_equals_torch_area_and_bilinear():
    x = _smooth(3, 48, 72)
    assert (resize(x, (24, 36)) - F.interpolate(x, size=(24, 36), mode="area")).abs().max() < 1e-5  # 2:1
    # at non-integer ratios torch pools whole-pixel windows, OpenCV weighs the exact pixel fractions:
    # both average the same area (the mean is kept), they differ in how they share boundary pixels
    for size in ((32, 48), (27, 40)):
        small = resize(x, size)
        assert abs(float(small.mean() - x.mean())) < 1e-4
        assert (small - F.interpolate(x, size=size, mode="area")).abs().mean() < 0.03
    up = (61, 91)
    assert (resize(x, up) - F.interpolate(x, size=up, mode="bilinear", align_corners=False)).abs().max() < 1e-3


@pytest.mark.parametrize("max_flow_side", [640, 64])  # flow at (upscaled) frame size / decisions downscaled
def test_the_whole_flow_interpolator_gives_the_same_frames_on_the_torch_path(monkeypatch, max_flow_side):
    """What a GPU runs (grid_sample warps, torch resizes) against the CPU's OpenCV path, end to end:
    the same in-between to sampling rounding, and the same quality against the true middle frame."""
    import tiny_interpolation as ti
    from motioncomic.interpolation import bilateral
    from motioncomic.interpolation import flow as flow_mod
    from motioncomic.interpolation import warp as warp_mod
    from motioncomic.interpolation.flow import FlowInterpolator

    frames = ti.clip([0, 1, 2], h=96, w=128, speed=0.12, spin_deg=4.0)
    a, truth, b = frames[0:1], frames[1:2], frames[2:3]
    interp = FlowInterpolator(device="cpu", max_flow_side=max_flow_side)
    cpu_path = interp.pair_times(a, b, [0.5, 0.25])
    monkeypatch.setattr(warp_mod, "warp_frames", backwarp)
    monkeypatch.setattr(flow_mod, "resize", flow_mod.resize_torch)
    monkeypatch.setattr(bilateral, "motion_at", bilateral.motion_at_torch)
    monkeypatch.setattr(bilateral, "box", bilateral.box_torch)
    torch_path = interp.pair_times(a, b, [0.5, 0.25])
    diff = (cpu_path - torch_path).abs()
    # measured here 4e-8 mean, 5e-6 at most; the bound allows OpenCV builds that place samples to
    # 1/32 pixel (as the warp test above)
    assert diff.mean() < 2e-3 and diff.max() < 0.1, (diff.mean(), diff.max())
    assert abs(ti.psnr(cpu_path[0:1], truth) - ti.psnr(torch_path[0:1], truth)) < 0.1
    assert ti.psnr(torch_path[0:1], truth) > ti.psnr(0.5 * (a + b), truth) + 2.0  # and it is a real warp
