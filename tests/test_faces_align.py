"""Alignment and paste-back: templates are hit, geometry is right within 1 px, the feathered mask
leaves everything outside it bit-identical."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from motioncomic.faces import align
from motioncomic.faces.detect import Face


def _similar_landmarks(template: str, size: int, angle: float, scale: float, shift) -> np.ndarray:
    """The template moved by a known similarity transform into frame space."""
    pts = align.TEMPLATES[template] * size
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]]) * scale
    return (pts @ rot.T + np.asarray(shift)).astype(np.float32)


@pytest.mark.parametrize("template,size", [("arcface_112", 112), ("arcface_128", 128), ("ffhq_512", 512)])
def test_landmark_warp_maps_landmarks_onto_the_template(template, size):
    lm = _similar_landmarks(template, size, angle=0.3, scale=0.7, shift=(140, 90))
    m = align.landmark_warp(lm, template, size)
    mapped = np.c_[lm, np.ones(5)] @ m.T
    np.testing.assert_allclose(mapped, align.TEMPLATES[template] * size, atol=0.5)


@settings(max_examples=25, deadline=None)
@given(angle=st.floats(-0.6, 0.6), scale=st.floats(0.4, 2.5), x=st.floats(60, 260), y=st.floats(60, 180))
def test_paste_back_geometry_within_one_pixel(angle, scale, x, y):
    """Paste a crop whose pixels hold their own crop coordinates: every frame pixel the crop lands
    on must hold M·(X, Y), i.e. the inverse warp puts each crop pixel where it came from."""
    size = 64
    lm = _similar_landmarks("arcface_112", size, angle, scale, (x, y))
    m = align.landmark_warp(lm, "arcface_112", size)
    ys, xs = np.mgrid[:size, :size].astype(np.float32)
    crop = np.stack([xs, ys, np.zeros_like(xs)], -1)
    frame = np.full((240, 320, 3), -1.0, np.float32)
    mask = np.ones((size, size), np.float32)
    out, full = align.paste_back(frame, crop, m, mask)
    inside = full > 0.999  # fully covered pixels (not the anti-aliased rim)
    assert inside.sum() > 50
    fy, fx = np.nonzero(inside)
    expect = np.c_[fx, fy, np.ones(len(fx))] @ m.T
    got = out[fy, fx, :2]
    assert np.abs(got - expect).max() < 1.0


def test_box_warp_centres_the_box():
    box = np.array([100, 50, 180, 150], np.float32)
    m = align.box_warp(box, 256, expand=2.0)
    centre = m @ np.array([140, 100, 1.0])
    np.testing.assert_allclose(centre, [128, 128], atol=1e-6)
    corner = m @ np.array([140 - 100, 100 - 100, 1.0])  # half the side (2 x 100 / 2) away
    np.testing.assert_allclose(corner, [0, 0], atol=1e-6)
    no_lm = Face(box, 1.0)
    np.testing.assert_allclose(align.face_warp(no_lm, "ffhq_512", 512), align.box_warp(box, 512, 1.6))


@pytest.mark.parametrize("blur,padding", [(0.0, (0, 0, 0, 0)), (0.3, (0, 0, 0, 0)), (0.5, (0, 0, 0, 0)), (0.2, (30, 0, 0, 0))])
def test_box_mask_is_zero_at_the_rim_and_one_in_the_middle(blur, padding):
    m = align.box_mask(128, blur, padding)
    assert m.shape == (128, 128) and m.dtype == np.float32
    assert m[0].max() < 0.01 and m[-1].max() < 0.01 and m[:, 0].max() < 0.01 and m[:, -1].max() < 0.01
    assert m[64, 64] > 0.99 and m.min() >= 0 and m.max() <= 1
    if padding[0]:  # the top is cut in by 30 %, the bottom is not
        assert m[:30].max() < 0.05 and m[-30:-20].max() > 0.5


def test_pixels_outside_the_feathered_mask_are_untouched():
    rng = np.random.default_rng(0)
    frame = rng.random((200, 300, 3), dtype=np.float32)
    before = frame.copy()
    m = align.box_warp(np.array([120, 60, 200, 140], np.float32), 96, 1.6)
    crop = np.ones((96, 96, 3), np.float32)
    out, full = align.paste_back(frame, crop, m, align.box_mask(96, 0.3))
    np.testing.assert_array_equal(frame, before)  # input not mutated
    outside = full == 0
    assert outside.sum() > 0.6 * full.size
    np.testing.assert_array_equal(out[outside], frame[outside])
    changed = np.any(out != frame, axis=-1)
    assert not np.any(changed & outside)
    assert changed.sum() > 2000


def test_paste_back_of_a_crop_partly_outside_the_frame():
    frame = np.zeros((100, 100, 3), np.float32)
    m = align.box_warp(np.array([-30, -30, 30, 30], np.float32), 64, 1.0)
    out, full = align.paste_back(frame, np.ones((64, 64, 3), np.float32), m, np.ones((64, 64), np.float32))
    assert out[5, 5, 0] == pytest.approx(1.0) and out[50, 50, 0] == 0.0
    m_far = align.box_warp(np.array([500, 500, 560, 560], np.float32), 64, 1.0)
    out2, full2 = align.paste_back(frame, np.ones((64, 64, 3), np.float32), m_far, np.ones((64, 64), np.float32))
    np.testing.assert_array_equal(out2, frame)
    assert full2.max() == 0
