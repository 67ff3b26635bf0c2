"""Retargeting: property tests (identity, reference bone lengths, driver angles), anime
proportions, missing keypoints, smoothing, MimicMotion's global fit, letterbox mapping."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tiny_poses as tp
from motioncomic.errors import MotionComicError
from motioncomic.poses import align, retarget as rt, skeleton as sk
from motioncomic.poses.keypoints import NUM_POINTS, Poses

DATA = np.load(Path(__file__).parent / "data" / "poses" / "upstream_expected.npz")
RAW = rt.RetargetOptions(smoothing=False)
PROPS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def lengths(poses: Poses) -> np.ndarray:
    return np.linalg.norm(sk.bone_vectors(poses.points.astype(np.float64)), axis=-1)


def angles(poses: Poses) -> np.ndarray:
    v = sk.bone_vectors(poses.points.astype(np.float64))
    return np.arctan2(v[..., 1], v[..., 0])


def angle_diff(a, b):
    return np.abs(np.angle(np.exp(1j * (a - b))))


heads = st.floats(2.0, 8.0)
seeds = st.integers(0, 10_000)


@PROPS
@given(heads, st.floats(20, 120), seeds)
def test_a_pose_onto_itself_is_the_identity(h, head_px, seed):
    pose = tp.skeleton(h, head_px, (300, 250), tp.dance_angles(1, seed), size=(1000, 600))
    out = rt.retarget(pose, pose, rt.RetargetOptions())
    np.testing.assert_allclose(out.points, pose.points, atol=1e-3)
    np.testing.assert_allclose(out.scores, pose.scores)
    assert out.size == pose.size


@PROPS
@given(heads, seeds)
def test_a_clip_onto_its_first_frame_is_the_identity(h, seed):
    clip = tp.skeleton(h, 50, (400, 200), tp.dance_angles(30, seed), size=(720, 1280))
    out = rt.retarget(clip.frame(0), clip, RAW)
    np.testing.assert_allclose(out.points, clip.points, atol=2e-3)


@PROPS
@given(heads, heads, st.floats(30, 200), st.floats(20, 90), seeds)
def test_bone_lengths_are_the_references_and_angles_the_drivers(ref_heads, drv_heads, ref_px, drv_px, seed):
    ref = tp.skeleton(ref_heads, ref_px, (300, 300), size=(1024, 576))
    drv = tp.skeleton(drv_heads, drv_px, (600, 250), tp.dance_angles(24, seed), size=(720, 1280))
    out = rt.retarget(ref, drv, RAW)
    np.testing.assert_allclose(lengths(out), np.broadcast_to(lengths(ref), (24, 17)), rtol=1e-4, atol=1e-3)
    assert angle_diff(angles(out), angles(drv)).max() < 1e-4
    # with smoothing the lengths stay the reference's (smoothing acts on the driver only)
    smooth = rt.retarget(ref, drv, rt.RetargetOptions())
    np.testing.assert_allclose(lengths(smooth), np.broadcast_to(lengths(ref), (24, 17)), rtol=1e-4, atol=1e-3)


def test_chibi_keeps_its_proportions_where_the_global_fit_does_not():
    chibi = tp.skeleton(2.5, 160, (288, 420), size=(1024, 576))
    dancer = tp.skeleton(7, 70, (640, 120), tp.dance_angles(48, 1), size=(720, 1280))
    ours = rt.retarget(chibi, dancer, RAW)
    glob = rt.retarget(chibi, dancer, rt.RetargetOptions(method="global"))
    ref_ratio = lengths(chibi)[0] / lengths(chibi)[0, 12]  # bone lengths in head-bone units
    np.testing.assert_allclose(lengths(ours) / lengths(ours)[:, 12:13], np.broadcast_to(ref_ratio, (48, 17)), rtol=1e-4)
    glob_ratio = lengths(glob)[0] / lengths(glob)[0, 12]
    assert abs(glob_ratio[7] / ref_ratio[7] - 1) > 0.5  # the global fit keeps the dancer's long thighs
    # placement: frame 0's neck is the reference's neck
    np.testing.assert_allclose(ours.points[0, 1], chibi.points[0, 1], atol=1e-3)


def test_driver_zoom_and_translation_are_kept():
    ref = tp.skeleton(3, 100, (300, 300), size=(1024, 576))
    frames = []
    for t in range(10):  # the dancer walks towards the camera (x1.5) and to the right
        z = 1 + 0.05 * t
        frames.append(tp.skeleton(7, 40 * z, (300 + 10 * t, 200), size=(720, 1280)))
    drv = Poses(np.concatenate([f.points for f in frames]), np.concatenate([f.scores for f in frames]), (720, 1280))
    out = rt.retarget(ref, drv, RAW)
    np.testing.assert_allclose(lengths(out)[:, :12] / lengths(ref)[:, :12],
                               np.broadcast_to(np.linspace(1, 1.45, 10)[:, None], (10, 12)), rtol=1e-3)
    dx = out.points[:, 1, 0] - out.points[0, 1, 0]
    size_ratio = lengths(ref)[0, rt.SIZE_BONES].sum() / lengths(frames[0])[0, rt.SIZE_BONES].sum()
    np.testing.assert_allclose(dx, 10 * np.arange(10) * size_ratio, rtol=1e-3, atol=1e-3)


def test_foreshortened_forearm_stays_short_but_never_breaks():
    ref = tp.skeleton(2.5, 150, (300, 300), size=(1024, 576))
    ang = tp.dance_angles(20, 3)
    drv = tp.skeleton(7, 50, (500, 200), ang, size=(720, 1280))
    pts = drv.points.copy()
    # frame 0: the right forearm points at the camera (half its length); first-frame ratio schemes break here
    pts[0, 4] = pts[0, 3] + 0.5 * (pts[0, 4] - pts[0, 3])
    out = rt.retarget(ref, drv.with_points(pts), RAW)
    forearm = lengths(out)[:, 2]
    assert forearm[0] == pytest.approx(0.5 * lengths(ref)[0, 2], rel=1e-3)
    np.testing.assert_allclose(forearm[1:], lengths(ref)[0, 2], rtol=1e-3)


def _hide(poses: Poses, points, frames=None) -> Poses:
    sc = poses.scores.copy()
    sc[slice(None) if frames is None else frames, points] = 0.05
    return Poses(poses.points, sc, poses.size, poses.found, poses.fps)


LEGS = [8, 9, 10, 11, 12, 13, *range(18, 24)]


@pytest.mark.parametrize("ref_heads", [2.5, 7.0])
def test_upper_body_reference_gets_plausible_legs(ref_heads):
    full = tp.skeleton(ref_heads, 100, (300, 200), size=(1400, 600))
    close_up = _hide(full, LEGS)
    skel = rt.reference_skeleton(close_up)
    true = lengths(full)[0]
    assert skel.estimated[[7, 8, 10, 11]].all() and not skel.estimated[:6].any()
    assert abs(skel.heads - ref_heads) < 1.5
    np.testing.assert_allclose(skel.lengths[[7, 8, 10, 11]], true[[7, 8, 10, 11]], rtol=0.3)


def test_mirrored_bones_and_missing_driver_limbs():
    ref = _hide(tp.skeleton(3, 120, (300, 300), size=(1024, 576)), [6, 7])  # left forearm unseen
    skel = rt.reference_skeleton(ref)
    assert skel.lengths[5] == pytest.approx(skel.lengths[2], rel=1e-5) and not skel.estimated[5]
    drv = tp.skeleton(7, 50, (500, 200), tp.dance_angles(12, 5), size=(720, 1280))
    gone = _hide(drv, [3, 4, *range(113, 134)], frames=slice(4, 8))  # right arm occluded in frames 4-7
    out = rt.retarget(ref, gone, RAW)
    a = angles(out)
    np.testing.assert_allclose(a[4:8, 1:3], np.broadcast_to(a[3, 1:3], (4, 2)), atol=1e-5)  # last good held
    assert np.isfinite(out.points).all()
    np.testing.assert_allclose(lengths(out)[:, :17], np.broadcast_to(skel.lengths, (12, 17)), rtol=1e-4)
    close = _hide(drv, LEGS)  # an upper-body driving clip: legs take the reference's pose
    out = rt.retarget(ref, close, RAW)
    np.testing.assert_allclose(angles(out)[:, 7:12], np.broadcast_to(angles(ref)[0, 7:12], (12, 5)), atol=1e-5)
    hidden = rt.retarget(ref, close, rt.RetargetOptions(smoothing=False, fill_missing="hide"))
    assert (hidden.scores[:, LEGS] <= 0.3).all()


def test_no_person_in_reference_falls_back(caplog):
    empty = Poses(np.zeros((1, NUM_POINTS, 2)), np.zeros((1, NUM_POINTS)), (800, 400), np.array([False]))
    drv = tp.skeleton(7, 50, (640, 200), tp.dance_angles(6), size=(720, 1280))
    with caplog.at_level(logging.WARNING):
        out = rt.retarget(empty, drv)
    assert "no person found in the reference image" in caplog.text
    assert out.size == (800, 400) and len(out) == 6
    # the 16:9 driver letterboxed into the 1:2 reference: centred, scaled by 400/1280
    np.testing.assert_allclose(out.points[:, 1, 0], (drv.points[:, 1, 0] + 0.5) * 400 / 1280 - 0.5, atol=1e-3)


def test_other_aspect_and_size_driver():
    ref = tp.skeleton(4, 80, (200, 180), size=(640, 400))  # portrait reference
    drv = tp.skeleton(7, 30, (640, 150), tp.dance_angles(8), size=(720, 1280))  # landscape video
    out = rt.retarget(ref, drv)
    assert out.size == (640, 400)
    assert (out.points[..., 0] > 0).all() and (out.points[..., 0] < 400).all()
    assert (out.points[..., 1] > 0).all() and (out.points[..., 1] < 640).all()


def test_smoothing_removes_jitter_without_lag_and_rejects_jumps_and_swaps():
    rng = np.random.default_rng(0)
    ref = tp.skeleton(7, 50, (640, 200), size=(720, 1280))
    n = 96
    still = Poses(np.repeat(ref.points, n, 0), np.repeat(ref.scores, n, 0), ref.size, fps=24.0)
    noisy = still.with_points(still.points + rng.normal(0, 1.5, still.points.shape).astype(np.float32))
    out = rt.retarget(ref, noisy)
    jitter_in = np.abs(np.diff(noisy.points[:, :18], axis=0)).mean()
    jitter_out = np.abs(np.diff(out.points[:, :18], axis=0)).mean()
    assert jitter_out < 0.5 * jitter_in
    # fast steady motion: 20 px per frame to the right, the filter follows within a pixel or two
    moving = still.with_points(still.points + (20 * np.arange(n))[:, None, None] * np.array([1, 0], np.float32))
    out = rt.retarget(ref, moving)
    lag = np.abs(out.points[24:, 1, 0] - moving.points[24:, 1, 0]).max()
    assert lag < 2.0
    # a one-frame spike of a low-confidence wrist is rejected (no limb jump)
    spike_pts, spike_sc = still.points.copy(), still.scores.copy()
    spike_pts[40, 4] += [300, -200]
    spike_sc[40, 4] = 0.5
    out = rt.retarget(ref, Poses(spike_pts, spike_sc, ref.size, fps=24.0), RAW)
    assert np.abs(out.points[40, 4] - out.points[39, 4]).max() < 1e-3
    # left/right arms swapped by the detector in one frame are swapped back
    sw_pts = tp.skeleton(7, 50, (640, 200), tp.dance_angles(n, 2, 0.2), size=(720, 1280)).points.copy()
    truth = sw_pts.copy()
    r, lft = map(np.array, sk.SIDE_SWAPS["arms"])
    sw_pts[50, r], sw_pts[50, lft] = truth[50, lft], truth[50, r]
    out = rt.retarget(ref, Poses(sw_pts, ref.scores.repeat(n, 0), ref.size, fps=24.0), RAW)
    expected = rt.retarget(ref, Poses(truth, ref.scores.repeat(n, 0), ref.size, fps=24.0), RAW)
    np.testing.assert_allclose(out.points[50], expected.points[50], atol=1e-3)


def test_global_fit_equals_mimicmotion():
    ref = Poses(DATA["fit_ref_points"][None], DATA["fit_ref_scores"][None], (768, 512))
    drv = Poses(DATA["fit_drv_points"], np.full(DATA["fit_drv_points"].shape[:2], 0.9), (540, 960))
    a, b = align.global_fit(ref, drv)
    np.testing.assert_allclose(a, DATA["fit_a"], rtol=1e-6)
    np.testing.assert_allclose(b, DATA["fit_b"], rtol=1e-6, atol=1e-9)
    out = rt.retarget(ref, drv, rt.RetargetOptions(method="global"))
    norm = DATA["fit_drv_points"].astype(np.float64) / [960, 540] * DATA["fit_a"] + DATA["fit_b"]
    np.testing.assert_allclose(out.points, norm * [512, 768], atol=1e-3)


def test_bad_options():
    p = tp.skeleton(7, 50, (300, 200))
    with pytest.raises(MotionComicError, match="skeleton, global, none"):
        rt.retarget(p, p, rt.RetargetOptions(method="wan"))
    with pytest.raises(MotionComicError, match="one image"):
        rt.retarget(tp.skeleton(7, 50, (300, 200), tp.dance_angles(2)), p)


@pytest.mark.parametrize("mode", ["pad", "crop", "stretch"])
@pytest.mark.parametrize("source", [(472, 200), (150, 350)])
def test_keypoints_follow_the_letterbox_of_the_reference(mode, source):
    import torch

    from motioncomic.samplers.framing import apply_plan, plan_frame

    plan = plan_frame(source, (288, 512) if source[0] < source[1] else (512, 288), mode)
    h, w = source
    pts = np.round(np.array([[w * 0.3, h * 0.4], [w * 0.7, h * 0.6], [w * 0.5, h * 0.2]])).astype(np.float32)
    poses = Poses(np.zeros((1, NUM_POINTS, 2), np.float32), np.ones((1, NUM_POINTS)), source)
    poses = poses.with_points(np.concatenate([pts, np.repeat(pts[:1], NUM_POINTS - 3, 0)])[None])
    mapped = align.to_frame(poses, plan)
    assert mapped.size == plan.frame
    for (x, y), (mx, my) in zip(pts, mapped.points[0, :3]):
        img = np.zeros((1, h, w, 3), np.float32)
        img[0, int(y) - 4:int(y) + 5, int(x) - 4:int(x) + 5] = 1.0  # a 9-px square centred on the point
        framed = apply_plan(torch.from_numpy(img), plan)[0, ..., 0].numpy()
        ys, xs = np.nonzero(framed > 0.5)
        assert abs(xs.mean() - mx) < 1.0 and abs(ys.mean() - my) < 1.0
    with pytest.raises(MotionComicError, match="retarget the poses onto this reference first"):
        align.to_frame(poses.with_points(poses.points, size=(10, 10)), plan)


def test_turning_to_profile_narrows_shoulders_and_hips_only():
    """A non-frontal driver: as the dancer turns, shoulder and hip widths collapse in the image; the
    character's do too, by the same fraction, while its limbs keep their lengths."""
    ref = tp.skeleton(2.5, 150, (300, 300), size=(1024, 576))
    base = tp.skeleton(7, 50, (500, 200), tp.dance_angles(20, 1, 0.3), size=(720, 1280))
    pts = base.points.copy()
    k = np.r_[np.ones(10), np.linspace(1, 0.1, 10)]  # frontal, then turning (full widths seen most of the clip)
    chains = {2: [2, 3, 4, *range(113, 134)], 5: [5, 6, 7, *range(92, 113)],
              8: [8, 9, 10, *range(21, 24)], 11: [11, 12, 13, *range(18, 21)]}
    for t in range(20):
        for root, chain in chains.items():
            delta = (k[t] - 1) * (pts[t, root] - pts[t, 1])
            pts[t, chain] += delta
    out = rt.retarget(ref, base.with_points(pts), RAW)
    got = lengths(out) / lengths(ref)
    np.testing.assert_allclose(got[:, [0, 3]], np.stack([k, k], 1), rtol=1e-3)  # shoulders narrow with the turn
    np.testing.assert_allclose(got[:, [1, 2, 4, 5, 7, 8, 10, 11]], 1.0, rtol=1e-3)  # limbs keep the reference's length
    assert angle_diff(angles(out), angles(base.with_points(pts))).max() < 1e-4
