"""Pose images equal MimicMotion's and DWPose's drawings pixel for pixel on fixed keypoints."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motioncomic.errors import MotionComicError
from motioncomic.poses.keypoints import Poses
from motioncomic.poses.render import draw_frame, render_poses

DATA = np.load(Path(__file__).parent / "data" / "poses" / "upstream_expected.npz")


@pytest.mark.parametrize("case", [0, 1, 2])
@pytest.mark.parametrize("style", ["mimicmotion", "dwpose"])
def test_render_matches_upstream(case, style):
    size = tuple(int(v) for v in DATA[f"render{case}_size"])
    img = draw_frame(DATA[f"render{case}_points"], DATA[f"render{case}_scores"], size, style)
    expected = DATA[f"render{case}_{style}"]
    assert img.shape == expected.shape and img.dtype == np.uint8
    assert expected.max() > 0  # something was drawn
    np.testing.assert_array_equal(img, expected)


def test_render_poses_is_a_comfy_image_batch():
    size = tuple(int(v) for v in DATA["render0_size"])
    pts, sc = DATA["render0_points"], DATA["render0_scores"]
    poses = Poses(np.stack([pts, pts + 3]), np.stack([sc, sc]), size)
    out = render_poses(poses)
    assert tuple(out.shape) == (2, size[0], size[1], 3) and str(out.dtype) == "torch.float32"
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    np.testing.assert_array_equal((out[0].numpy() * 255).round().astype(np.uint8), DATA["render0_mimicmotion"])
    assert not np.array_equal(out[0].numpy(), out[1].numpy())  # the shifted pose moved
    one = render_poses(poses, indices=[1])
    np.testing.assert_array_equal(one[0].numpy(), out[1].numpy())


def test_render_parts_and_unknown_style():
    size = tuple(int(v) for v in DATA["render2_size"])
    pts, sc = DATA["render2_points"], DATA["render2_scores"]
    body = draw_frame(pts, sc, size, parts=("body",))
    full = draw_frame(pts, sc, size)
    assert body.sum() < full.sum()
    with pytest.raises(MotionComicError, match="mimicmotion, dwpose"):
        draw_frame(pts, sc, size, style="openpose-v2")


def test_pose_images_that_would_not_fit_are_refused_before_allocation(monkeypatch):
    """600 driving frames at a 4096x4096 reference would be ~112 GiB of float32 images."""
    import motioncomic.media.video as mv

    monkeypatch.setattr(mv, "available_memory", lambda: 16 * 2**30)
    pts, sc = DATA["render0_points"], DATA["render0_scores"]
    poses = Poses(np.repeat(pts[None], 600, 0), np.repeat(sc[None], 600, 0), (4096, 4096))
    with pytest.raises(MotionComicError, match="pose images has about 600 frames of 4096x4096.*shorter driving clip"):
        render_poses(poses)
    assert tuple(render_poses(poses, indices=[0, 1]).shape) == (2, 4096, 4096, 3)  # a tile at a time still works
