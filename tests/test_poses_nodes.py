"""Pose nodes, through the node classes: loader choices from the model folders, extract and
retarget on a real mp4 decoded by Load Video, tiny ONNX models with the real signatures."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tiny_poses as tp
from motioncomic import NODE_CLASS_MAPPINGS

Load = NODE_CLASS_MAPPINGS["MotionComicLoadDWPose"]
Extract = NODE_CLASS_MAPPINGS["MotionComicExtractPoses"]
Retarget = NODE_CLASS_MAPPINGS["MotionComicRetargetPoses"]


@pytest.fixture
def dwpose(models_dir):
    tp.install_for_workflows(models_dir)
    spec = Load.INPUT_TYPES()["required"]
    assert spec["detector"][0] == ["yolox_l.onnx", "dw-ll_ucoco_384.onnx"]
    assert spec["pose_model"][0] == ["dw-ll_ucoco_384.onnx", "yolox_l.onnx"]
    (models,) = Load().load("yolox_l.onnx", "dw-ll_ucoco_384.onnx", "cpu")
    return models


def test_extract_and_retarget_nodes(dwpose, tmp_path, monkeypatch):
    monkeypatch.setenv("MOTIONCOMIC_INPUT_DIR", str(tmp_path))
    from motioncomic.media.video import write_video

    write_video([tp.person_frame(180, 320, (60 + 8 * t, 20, 120 + 8 * t, 170), seed=t) for t in range(8)],
                tmp_path / "dance.mp4", 12)
    frames, fps, n = NODE_CLASS_MAPPINGS["MotionComicLoadVideo"]().load("dance.mp4")
    poses, images = Extract().extract(dwpose, frames, "track", 4, fps, "mimicmotion")
    assert len(poses) == n == 8 and poses.size == (180, 320) and poses.fps == pytest.approx(12)
    assert tuple(images.shape) == (8, 180, 320, 3) and images.dtype == torch.float32 and images.max() > 0.5
    ref = torch.from_numpy(tp.person_frame(400, 240, (70, 40, 170, 380)).astype(np.float32) / 255)[None]
    moved, pose_images, ref_pose = Retarget().retarget(dwpose, ref, poses, "skeleton", True, "reference", "dwpose")
    assert moved.size == (400, 240) and len(moved) == 8
    assert tuple(pose_images.shape) == (8, 400, 240, 3) and tuple(ref_pose.shape) == (1, 400, 240, 3)
    from motioncomic.poses.extract import extract_image

    neck = extract_image(dwpose, ref[0]).points[0, 1]
    np.testing.assert_allclose(moved.points[0, 1], neck, atol=1.0)  # frame 0 starts at the character's neck
    assert np.isfinite(moved.points).all() and moved.points[-1, 1, 0] > moved.points[0, 1, 0] + 20  # it travels
    glob, *_ = Retarget().retarget(dwpose, ref, poses, "global", False, "hide", "mimicmotion")
    assert not np.allclose(glob.points, moved.points)
