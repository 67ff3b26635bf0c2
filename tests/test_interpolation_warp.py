"""The weight-free interpolator's CPU sampling (OpenCV) equals torch's (the path it takes on a GPU):
warps with and without the sharp kernel, at the border, for any channel count, and the resizes."""
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
