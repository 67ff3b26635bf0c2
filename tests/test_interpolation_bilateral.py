"""The bilateral choice of the motion at time t (``interpolation/bilateral.py``): its OpenCV path (the
CPU) equals its torch path (a GPU), the box filters agree, two candidates are the sigmoid choice of
the first flow interpolator, and the neighbours' motion pays at motion boundaries."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import tiny_interpolation as ti
from motioncomic.interpolation import bilateral
from motioncomic.interpolation.flow import FlowInterpolator, compose, decide


def _smooth(c: int, h: int, w: int, seed: int, cell: int = 4) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    small = torch.rand(1, c, max(2, h // cell), max(2, w // cell), generator=g)
    return F.interpolate(small, size=(h, w), mode="bicubic", align_corners=False)


@pytest.mark.parametrize("h,w", [(37, 53), (96, 128), (5, 3)])
@pytest.mark.parametrize("shift", [0, 2])
@pytest.mark.parametrize("t", [0.5, 0.3])
def test_opencv_path_equals_torch_path(h, w, shift, t):
    i0, i1 = _smooth(3, h, w, 0).clamp(0, 1), _smooth(3, h, w, 1).clamp(0, 1)
    f01, f10 = ((_smooth(2, h, w, s, cell=8) - 0.5) * 30 for s in (2, 3))  # up to ~15 px, past the border
    cpu = bilateral._motion_at_cpu(i0, i1, f01, f10, t, shift, 2, 1e-3)
    ref = bilateral.motion_at_torch(i0, i1, f01, f10, t, shift, 2, 1e-3)
    for ours, theirs, name in zip(cpu, ref, ("F_t0", "F_t1", "error")):
        assert ours.shape == theirs.shape and ours.dtype == torch.float32, name
        # measured 1e-5 px at most on the flows: OpenCV places samples to 1/32 pixel, which moves an
        # error and so a weight a little; the bound is far below a visible difference
        scale = float(theirs.abs().max()) + 1e-6
        assert float((ours - theirs).abs().max()) < 2e-3 * scale, name
    assert bilateral.motion_at(i0, i1, f01, f10, t, shift, 2, 1e-3)[0].equal(cpu[0])  # CPU tensors: the CPU path


@pytest.mark.parametrize("r", [0, 1, 4])
def test_box_filters_agree_and_average_only_inside_the_frame(r):
    x = torch.rand(2, 3, 19, 26, generator=torch.Generator().manual_seed(4))
    ours, theirs = bilateral.box(x, r), bilateral.box_torch(x, r)
    assert (ours - theirs).abs().max() < 1e-5
    ones = bilateral.box(torch.ones(1, 1, 9, 9), r)
    assert (ones - 1).abs().max() < 1e-6  # a mean, not a sum with zeros outside the frame
    if r:
        manual = x[0, 0, :r + 1, :r + 1].mean()  # the corner's window holds only the pixels inside
        assert abs(float(ours[0, 0, 0, 0] - manual)) < 1e-5


def test_two_candidates_are_the_sigmoid_choice_between_plain_and_symmetric():
    h, w, t = 32, 40, 0.4
    i0, i1 = _smooth(3, h, w, 5), _smooth(3, h, w, 6)
    f01, f10 = ((_smooth(2, h, w, s, cell=8) - 0.5) * 8 for s in (7, 8))
    ft0, _, _ = bilateral.motion_at_torch(i0, i1, f01, f10, t, 0, 2, 1e-3)
    from motioncomic.interpolation.warp import backwarp

    (p0, p1), (s0, s1) = bilateral.candidates(f01, f10, t)
    e = [bilateral.box_torch((backwarp(i0, a) - backwarp(i1, b)).square().mean(1, keepdim=True), 2)
         for a, b in ((p0, p1), (s0, s1))]
    choice = torch.sigmoid((e[0] - e[1]) / 1e-3)
    torch.testing.assert_close(ft0, p0 + choice * (s0 - p0), atol=1e-5, rtol=1e-5)


def test_shifted_reads_the_neighbour_and_repeats_the_border():
    f = torch.arange(12.0).view(1, 1, 3, 4)
    right = bilateral.shifted(f, 1, 0)
    assert right[0, 0, 0].tolist() == [1.0, 2.0, 3.0, 3.0]
    up = bilateral.shifted(f, 0, -1)
    assert up[0, 0, :, 0].tolist() == [0.0, 0.0, 4.0]


@pytest.mark.parametrize("h,w,speed,spin", [(144, 192, 0.15, 6.0), (192, 256, 0.12, 4.0)])
def test_the_neighbours_motion_pays_at_motion_boundaries(h, w, speed, spin):
    """A textured sprite crossing a textured background: DIS's patches straddle its edge, and the
    candidates read a few pixels away repair the in-between there (measured +0.8 and +0.5 dB over the
    whole frame)."""
    frames = ti.clip([0, 0.5, 1], h=h, w=w, speed=speed, spin_deg=spin)
    a, truth, b = (frames[k:k + 1].permute(0, 3, 1, 2) for k in range(3))
    f01, f10 = FlowInterpolator(device="cpu", min_flow_side=0).flows(a, b)
    psnrs = []
    for shift in (0, 6):
        ft0, ft1, conf = decide(a, b, f01, f10, 0.5, shift=shift)
        out = compose(a, b, ft0, ft1, 0.5, conf)
        psnrs.append(ti.psnr(out.permute(0, 2, 3, 1), truth.permute(0, 2, 3, 1)))
    assert psnrs[1] > psnrs[0] + 0.25, psnrs
