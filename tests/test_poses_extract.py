"""DWPose extraction through real onnxruntime with tiny models of the real signatures."""
from __future__ import annotations

import logging
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import tiny_poses as tp
from motioncomic import host
from motioncomic.errors import MotionComicError
from motioncomic.poses import extract, files
from motioncomic.poses.keypoints import from_wholebody

DATA = np.load(Path(__file__).parent / "data" / "poses" / "upstream_expected.npz")


@pytest.fixture
def dwpose(models_dir):
    det, pose = tp.install_for_workflows(models_dir)
    return files.open_dwpose(det, pose, "cpu")


def test_models_have_the_real_signatures(dwpose):
    assert [i.describe() for i in dwpose.detector.inputs] == ["images[1,3,640,640]"]
    assert [o.describe() for o in dwpose.detector.outputs] == ["output[1,8400,85]"]
    assert [i.describe() for i in dwpose.pose.inputs] == ["input[1,3,384,288]"]
    assert [o.describe() for o in dwpose.pose.outputs] == ["simcc_x[1,133,576]", "simcc_y[1,133,768]"]
    assert dwpose.det_size == (640, 640) and dwpose.pose_size == (384, 288)


def test_image_keypoints_equal_upstream(dwpose):
    box = tuple(int(v) for v in DATA["extract_box"])
    img = tp.person_frame(576, 1024, box, seed=int(DATA["extract_seed"]))
    boxes = extract.detect(dwpose, img)
    np.testing.assert_allclose(boxes, DATA["extract_det_boxes"], atol=1e-3)
    poses = extract.extract_image(dwpose, img)
    assert poses.found[0] and poses.size == (576, 1024)
    np.testing.assert_allclose(poses.points[0], DATA["extract_points"], atol=2e-3)
    np.testing.assert_allclose(poses.scores[0], DATA["extract_scores"], atol=1e-5)
    # and the figure really is where the tiny model says (through crop + SimCC decoding)
    expected, _ = from_wholebody(tp.expected_points(box), tp.CONFIDENCE)
    assert np.abs(poses.points[0] - expected).max() < 2.0


def test_no_person_in_reference(dwpose, caplog):
    img = tp.person_frame(300, 200, None, seed=2)
    with caplog.at_level(logging.WARNING):
        poses = extract.extract_image(dwpose, img)
    assert not poses.found[0]
    assert "no person found in the 200x300 reference image" in caplog.text
    np.testing.assert_allclose(poses.scores[0], DATA["empty_scores"], atol=1e-5)  # upstream's whole-image fallback


def moving_clip(n, h=240, w=320, gap=()):
    for t in range(n):
        x0 = 40 + 6 * t
        yield tp.person_frame(h, w, None if t in gap else (x0, 30, x0 + 60, 200), seed=t)


def test_tracking_equals_every_frame_with_fewer_detections(dwpose, caplog):
    with caplog.at_level(logging.INFO):
        every = extract.extract_frames(dwpose, moving_clip(16), mode="every_frame", fps=24)
        runs_every = int(caplog.text.split("poses:")[-1].split("detector runs")[0].split(",")[-1])
        caplog.clear()
        tracked = extract.extract_frames(dwpose, moving_clip(16), mode="track", detect_every=8, total=16)
        runs_track = int(caplog.text.split("poses:")[-1].split("detector runs")[0].split(",")[-1])
    assert every.found.all() and tracked.found.all() and every.fps == 24
    assert runs_every == 16 and runs_track == 2
    assert np.abs(tracked.points - every.points).max() < 1.5
    x = every.points[:, 0, 0]  # the nose moves right with the figure, 6 px per frame
    np.testing.assert_allclose(np.diff(x), 6.0, atol=1.0)


@pytest.mark.parametrize("mode", ["track", "every_frame"])
def test_frames_without_person_keep_previous_pose(dwpose, caplog, mode):
    with caplog.at_level(logging.WARNING):
        poses = extract.extract_frames(dwpose, moving_clip(12, gap={0, 1, 5, 6, 7}), mode=mode)
    assert poses.missing_frames() == [0, 1, 5, 6, 7]
    assert "no person in 5 of 12 driving frames (0-1, 5-7)" in caplog.text
    np.testing.assert_array_equal(poses.points[0], poses.points[2])  # leading frames take the first found
    np.testing.assert_array_equal(poses.points[7], poses.points[4])  # gaps hold the previous pose
    assert poses.points[8, 0, 0] > poses.points[4, 0, 0] + 20  # and it picks the figure up again


def test_no_person_anywhere_and_size_change(dwpose):
    with pytest.raises(MotionComicError, match="no person found in any of the 3 driving frames"):
        extract.extract_frames(dwpose, moving_clip(3, gap={0, 1, 2}))
    frames = [tp.person_frame(240, 320, (40, 30, 100, 200)), tp.person_frame(200, 320, (40, 30, 100, 190))]
    with pytest.raises(MotionComicError, match="frame 1 is 320x200, frame 0 320x240"):
        extract.extract_frames(dwpose, frames)
    with pytest.raises(MotionComicError, match="track, every_frame"):
        extract.extract_frames(dwpose, frames, mode="sometimes")


def test_float_tensor_frames(dwpose):
    import torch

    clip = torch.from_numpy(np.stack(list(moving_clip(4))).astype(np.float32) / 255.0)
    poses = extract.extract_frames(dwpose, extract.iter_image_batch(clip), total=4)
    ref = extract.extract_frames(dwpose, moving_clip(4))
    assert np.abs(poses.points - ref.points).max() < 0.6


def test_corrupt_and_swapped_models(models_dir, dwpose):
    bad = models_dir / "dwpose" / "broken.onnx"
    bad.write_bytes((models_dir / "dwpose" / "yolox_l.onnx").read_bytes()[:500])
    with pytest.raises(MotionComicError, match="broken.onnx is not a readable ONNX model.*download it again"):
        files.open_dwpose(bad, dwpose.pose.path, "cpu")
    with pytest.raises(MotionComicError, match="not a DWPose/RTMPose SimCC model.*looks like a detector"):
        files.open_dwpose(dwpose.detector.path, dwpose.detector.path, "cpu")
    with pytest.raises(MotionComicError, match="not a YOLOX person detector"):
        files.open_dwpose(dwpose.pose.path, dwpose.pose.path, "cpu")
    with pytest.raises(MotionComicError, match="huggingface.co/yzd-v/DWPose"):
        files.resolve("nothing.onnx")


def test_controlnet_aux_folder_is_searched(tmp_path):
    comfy = tmp_path / "ComfyUI"
    aux = comfy / "custom_nodes" / "comfyui_controlnet_aux" / "ckpts" / "yzd-v" / "DWPose"
    tp.make_detector(aux / "yolox_l.onnx")
    (comfy / "models").mkdir()
    host.set_models_dir(comfy / "models")
    try:
        assert files.resolve("yolox_l.onnx") == aux / "yolox_l.onnx"
        assert files.choices("det") == ["yolox_l.onnx"]
    finally:
        host.set_models_dir(None)


def test_long_video_memory_is_flat(tmp_path):
    """2,000 frames through real ffmpeg: peak memory of 2,000 frames ~ that of 200. (Models in the
    small input sizes, 64x48 pose and 64x64 detector (any fixed size works), keep this test fast.)"""
    from motioncomic.media.video import iter_video, write_video

    dwpose = files.open_dwpose(tp.make_detector(tmp_path / "yolox_s.onnx", (64, 64)),
                               tp.make_pose(tmp_path / "dw-ll_ucoco.onnx", (64, 48)), "cpu")

    def frames(n):
        for t in range(n):
            x0 = 10 + (t % 40)
            yield tp.person_frame(64, 96, (x0, 8, x0 + 20, 60), seed=t % 7)

    peaks = {}
    for n in (200, 2000):
        path = write_video(frames(n), tmp_path / f"drive{n}.mp4", 24)
        meta, it = iter_video(path)
        tracemalloc.start()
        poses = extract.extract_frames(dwpose, it, mode="track", detect_every=50, fps=meta["fps"])
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(poses) == n and poses.found.all()
    keypoints = 2000 * 134 * 3 * 4 * 2  # the kept keypoints (points + scores, lists + stacked copy)
    assert peaks[2000] - peaks[200] < keypoints + 2_000_000, peaks


def test_cancel_stops_extraction_and_rendering(dwpose):
    from motioncomic.errors import Cancelled
    from motioncomic.poses.render import render_poses

    host.request_cancel()
    with pytest.raises(Cancelled):
        extract.extract_frames(dwpose, moving_clip(3), total=3)
    poses = extract.extract_frames(dwpose, moving_clip(1))
    many = type(poses)(poses.points.repeat(9, 0), poses.scores.repeat(9, 0), poses.size)
    host.request_cancel()
    with pytest.raises(Cancelled):
        render_poses(many)
    host.clear_cancel()
