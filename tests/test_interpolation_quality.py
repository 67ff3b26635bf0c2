"""Optical-flow interpolation against ground truth: synthetic scenes rendered at half-frame times.

Every scene (see ``tiny_interpolation.render_scene``) moves a sprite ~25 px per frame on an
elliptic path (curved, so linear motion is wrong too), spinning 12 degrees per frame, behind a
static bar (occlusion). Frames at t = 0, 1, 2, 3, 4 are the input; frames rendered at 0.5, 1.5,
2.5, 3.5 are held out and compared with what ``interpolate(keys, 2)`` makes in their place.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tiny_interpolation as ti

KEYS = np.arange(5, dtype=np.float64)
HELD_OUT = KEYS[:-1] + 0.5


def _sprite(kind: str, characters):
    if kind == "texture":
        return ti.sprite_texture(48)
    if kind == "drawn":
        return ti.sprite_drawn(48)
    return ti.sprite_image(characters / "anime_boy_blue_hair.png", 48)


@pytest.mark.parametrize("kind", ["texture", "drawn", "character image"])
def test_flow_beats_crossfade_by_3db_on_held_out_middle_frames(kind, characters):
    from motioncomic.interpolation import interpolate

    sprite = _sprite(kind, characters)
    keys = ti.clip(KEYS, sprite=sprite)
    truth = ti.clip(HELD_OUT, sprite=sprite)
    before = keys.clone()
    out = interpolate(keys, 2, fps=8.0)
    assert torch.equal(keys, before)  # input untouched
    assert out.frames.shape == (9, *keys.shape[1:]) and out.fps == 16.0
    # originals bit-identical, in place
    for j in range(len(KEYS)):
        assert torch.equal(out.frames[2 * j], keys[j])
    assert out.synthesized == [1, 3, 5, 7]
    flow = np.array([ti.psnr(out.frames[2 * j + 1], truth[j]) for j in range(len(HELD_OUT))])
    fade = np.array([ti.psnr(0.5 * (keys[j] + keys[j + 1]), truth[j]) for j in range(len(HELD_OUT))])
    gain = flow.mean() - fade.mean()
    assert gain >= 3.0, f"{kind}: flow {flow.round(1)} dB vs cross-fade {fade.round(1)} dB (mean gain {gain:.2f})"
    assert flow.min() > 20.0, flow


def test_quarter_times_are_placed_in_time_order():
    """m = 4: each synthesised frame is closest to the ground truth at its own time."""
    from motioncomic.interpolation import interpolate

    keys = ti.clip([0.0, 1.0])
    truth = ti.clip([0.25, 0.5, 0.75])
    out = interpolate(keys, 4).frames[1:4]
    scores = np.array([[ti.psnr(out[i], truth[j]) for j in range(3)] for i in range(3)])
    assert list(scores.argmax(axis=1)) == [0, 1, 2], scores.round(1)
    fade = [ti.psnr((1 - t) * keys[0] + t * keys[1], truth[j]) for j, t in enumerate((0.25, 0.5, 0.75))]
    assert np.mean(np.diag(scores)) >= np.mean(fade) + 3.0, (np.diag(scores), fade)


def test_scene_cut_is_detected_and_never_blended():
    from motioncomic.interpolation import interpolate
    from motioncomic.interpolation.cuts import detect_cuts

    keys = ti.clip(KEYS, cut_at=2.5)  # frames 0-2: first shot, 3-4: second shot
    assert detect_cuts(keys) == [3]
    out = interpolate(keys, 4, cuts="auto")
    assert out.cuts == [3]
    held = out.frames[9:12]  # between input 2 (output 8) and input 3 (output 12)
    assert out.kinds[9:12] == ["held"] * 3
    assert torch.equal(held[0], keys[2]) and torch.equal(held[1], keys[3]) and torch.equal(held[2], keys[3])
    # pairs inside one shot are still interpolated
    assert out.kinds[1:4] == ["interpolated"] * 3 and out.kinds[13:16] == ["interpolated"] * 3
    # cuts given as indices, no detection
    given = interpolate(keys, 2, cuts=[1])
    assert given.cuts == [1] and given.kinds[1] == "held" and torch.equal(given.frames[1], keys[1])
    assert given.kinds[5] == "interpolated"  # the real cut at 3 is not looked for


def test_sharp_warp_keeps_fine_texture_that_bilinear_blurs():
    """A half-pixel shift of a fine stripe pattern: bilinear sampling halves its contrast, the
    bilinear+bicubic mean the flow interpolator warps with keeps more of it; whole-pixel shifts are
    exact either way, and the dtype is kept."""
    from motioncomic.interpolation.warp import backwarp

    x = torch.arange(64, dtype=torch.float64)
    def stripes(shift):
        v = 0.5 + 0.4 * torch.sin(2 * np.pi * (x + shift) / 5.0)
        return v.view(1, 1, 1, -1).expand(1, 3, 8, -1).float().contiguous()

    img = stripes(0.0)
    half = torch.zeros(1, 2, 8, 64)
    half[:, 0] = 0.5
    truth = stripes(0.5)[..., 2:-2]  # away from the border
    err = {s: (backwarp(img, half, sharp=s)[..., 2:-2] - truth).abs().mean().item() for s in (False, True)}
    assert err[True] < 0.6 * err[False], err
    whole = torch.zeros(1, 2, 8, 64)
    whole[:, 0] = 2.0
    for s in (False, True):
        assert torch.allclose(backwarp(img, whole, sharp=s)[..., :-2], img[..., 2:], atol=1e-5)
    assert backwarp(img.half(), half, sharp=True).dtype == torch.float16
