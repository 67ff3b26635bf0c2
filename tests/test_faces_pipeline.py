"""The per-clip restore with tiny real ONNX models: identity from the reference, untouched pixels
outside the mask, bit-identical frames without faces, tracking that removes jitter."""
from __future__ import annotations

import numpy as np
import pytest

import tiny_faces as tf
from motioncomic import host
from motioncomic.errors import Cancelled, MotionComicError
from motioncomic.faces import track as T
from motioncomic.faces.detect import load_detector
from motioncomic.faces.pipeline import FaceModels, FaceOptions, restore_clip, to_u8

OPTS = FaceOptions(det_size=320, debug=False)


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    d = tmp_path_factory.mktemp("faces")
    return {
        "det": tf.make_scrfd(d / "det_10g.onnx"),
        "yolo": tf.make_yolo(d / "anime.onnx", size=320),
        "rec": tf.make_arcface(d / "w600k_r50.onnx"),
        "swap": tf.make_inswapper(d / "inswapper_128.onnx"),
        "gfpgan": tf.make_enhancer(d / "GFPGANv1.4.onnx", size=128),
        "gfpgan_dyn": tf.make_enhancer(d / "gfpgan_dynamic.onnx", size=128, dynamic=True),
        "codeformer": tf.make_enhancer(d / "codeformer.onnx", "codeformer", size=128),
        "occluder": tf.make_occluder(d / "occluder.onnx", size=64),
        "parser": tf.make_face_parser(d / "bisenet.onnx", size=64),
    }


def _ref(shade: float = 0.6) -> np.ndarray:
    ref = tf.background(200, 200, 3)
    tf.draw_face(ref, 60, 50, 80, shade=shade)
    return ref


def _clip(n=6, h=160, w=240, face_from=0):
    frames = np.stack([tf.background(h, w, 1) for _ in range(n)])
    for t in range(face_from, n):
        tf.draw_face(frames[t], 40 + 4 * t, 30, 60)
    return frames


def test_swap_and_enhance_change_only_the_face_region(m):
    frames = _clip()
    before = frames.copy()
    models = FaceModels((m["det"],), m["swap"], m["rec"], m["gfpgan"])
    out, debug, rep = restore_clip(frames, _ref(), models, OPTS)
    np.testing.assert_array_equal(frames, before)  # input not mutated
    assert out.shape == frames.shape and out.dtype == np.float32 and debug.shape[0] == 0
    assert rep.detector == "det_10g.onnx" and rep.frames_with_faces == 6 and rep.tracks == 1
    for t in range(len(frames)):
        x0 = 40 + 4 * t
        changed = np.any(out[t] != frames[t], axis=-1)
        ys, xs = np.nonzero(changed)
        assert changed[30 + 30, x0 + 30]  # the face centre changed
        # every changed pixel lies within the aligned crop around the face (crop side <= 1.6 x 60)
        assert xs.min() >= x0 + 30 - 60 and xs.max() <= x0 + 30 + 60
        assert ys.min() >= 0 and ys.max() <= 60 + 60
        assert (~changed).sum() > 0.7 * changed.size


def test_the_reference_identity_reaches_the_frames(m):
    """Swap-only: two different references give different faces (the embedding goes through emap)."""
    frames = _clip(3)
    models = FaceModels((m["det"],), m["swap"], m["rec"])
    a, _, _ = restore_clip(frames, _ref(0.1), models, OPTS)
    b, _, _ = restore_clip(frames, _ref(0.95), models, OPTS)
    centre = (slice(45, 75), slice(55, 85))
    assert np.abs(a[0][centre] - b[0][centre]).mean() > 0.01
    outside = (slice(140, 160), slice(0, 240))
    np.testing.assert_array_equal(a[0][outside], frames[0][outside])


def test_enhance_only_works_without_reference_or_swapper(m):
    frames = _clip(3)
    out, _, rep = restore_clip(frames, None, FaceModels((m["det"],), enhancer=m["gfpgan"]), OPTS)
    assert rep.frames_with_faces == 3
    assert np.abs(out - frames).max() > 0.05


def test_swap_without_recogniser_or_reference_is_refused(m):
    with pytest.raises(MotionComicError, match="needs a recogniser"):
        restore_clip(_clip(2), _ref(), FaceModels((m["det"],), m["swap"]), OPTS)
    with pytest.raises(MotionComicError, match="reference image"):
        restore_clip(_clip(2), None, FaceModels((m["det"],), m["swap"], m["rec"]), OPTS)


def test_wrong_model_in_the_swapper_slot_is_named(m):
    with pytest.raises(MotionComicError, match=r"GFPGANv1\.4\.onnx looks like a face enhancer.*expected a face "
                                               r"swapper with inputs target \[1,3,128,128\] and source \[1,512\]"):
        restore_clip(_clip(2), _ref(), FaceModels((m["det"],), m["gfpgan"], m["rec"]), OPTS)


def test_frames_without_faces_are_bit_identical(m):
    frames = _clip(12, face_from=7)
    models = FaceModels((m["det"],), m["swap"], m["rec"], m["codeformer"])
    out, debug, rep = restore_clip(frames, _ref(), models, FaceOptions(det_size=320, detect_every=5))
    for t in range(7):
        assert out[t].tobytes() == frames[t].tobytes(), t
    for t in range(7, 12):
        assert not np.array_equal(out[t], frames[t]), t
    assert rep.frames_with_faces == 5
    assert debug.shape == frames.shape
    assert debug[8, 28:34, 95:110, 1].min(axis=0).max() < 0.9 < debug[8, 28:34, 95:110, 1].max()  # green top edge
    np.testing.assert_array_equal(debug[0], to_u8(frames[0]).astype(np.float32) / 255)


def test_blend_zero_and_codeformer_fidelity(m):
    frames = _clip(2)
    base = FaceModels((m["det"],), enhancer=m["codeformer"])
    out0, _, _ = restore_clip(frames, None, base, FaceOptions(det_size=320, debug=False, enhance_blend=0.0))
    np.testing.assert_array_equal(out0, frames)
    faithful, _, _ = restore_clip(frames, None, base, FaceOptions(det_size=320, debug=False, fidelity=1.0))
    strong, _, _ = restore_clip(frames, None, base, FaceOptions(det_size=320, debug=False, fidelity=0.0))
    assert np.abs(strong - frames).mean() > 2 * np.abs(faithful - frames).mean()


def test_dynamic_batch_enhancer_matches_the_static_one(m):
    frames = _clip(5)
    a, _, _ = restore_clip(frames, None, FaceModels((m["det"],), enhancer=m["gfpgan"]), OPTS)
    b, _, _ = restore_clip(frames, None, FaceModels((m["det"],), enhancer=m["gfpgan_dyn"]), OPTS)
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("mask", ["occluder", "parser"])
def test_mask_model_limits_the_paste_to_the_visible_face(m, mask):
    frames = _clip(2)
    plain, _, _ = restore_clip(frames, None, FaceModels((m["det"],), enhancer=m["gfpgan"]), OPTS)
    masked, _, _ = restore_clip(frames, None, FaceModels((m["det"],), enhancer=m["gfpgan"], mask=m[mask]), OPTS)
    grey = np.ones(frames.shape[1:3], bool)
    grey[20:100, 30:110] = False  # well around the face (frame 0 face at x 40..100, y 30..90)
    assert np.abs(plain[0] - frames[0])[grey].max() > 0.01   # the box mask reaches the background
    assert np.abs(masked[0] - frames[0])[grey].max() < 0.01  # the mask model keeps it out
    assert np.abs(masked[0] - frames[0])[50:70, 60:80].max() > 0.05  # the face itself is still restored


def _jittery(n=24, seed=3):
    rng = np.random.default_rng(seed)
    frames = np.stack([tf.background(160, 320, 2) for _ in range(n)])
    truth = []
    for t in range(n):
        x, y = 30 + 6 * t + rng.integers(-4, 5), 40 + rng.integers(-4, 5)
        tf.draw_face(frames[t], x, y, 56)
        truth.append(30 + 6 * t + 28)
    return frames, np.array(truth, float)


def test_tracking_removes_jitter_and_saves_detector_calls(m):
    frames, truth_cx = _jittery()
    results = {}
    for tracking in (False, True):
        det = load_detector(m["det"], det_size=320)
        faces = T.track_clip(len(frames), lambda i: det.detect(to_u8(frames[i])), tracking, 5, 2.0)
        assert all(len(f) == 1 for f in faces)
        cx = np.array([(f[0].box[0] + f[0].box[2]) / 2 for f in faces])
        cy = np.array([(f[0].box[1] + f[0].box[3]) / 2 for f in faces])
        results[tracking] = (np.abs(np.diff(cx, 2)).mean() + np.abs(np.diff(cy, 2)).mean(), det.calls,
                             np.abs(cx - truth_cx).max())
    raw_jerk, raw_calls, _ = results[False]
    smooth_jerk, calls, err = results[True]
    assert raw_calls == 24
    assert calls <= 24 / 3
    assert smooth_jerk < 0.3 * raw_jerk, results
    assert err < 6  # still on the face


def test_track_splits_gaps_where_faces_appear():
    from motioncomic.faces.detect import Face

    def detect(i):
        calls.append(i)
        return [Face(np.array([i, 0, i + 10, 10], np.float32), 1.0)] if i >= 13 else []

    calls: list[int] = []
    faces = T.detect_clip(20, detect, every=8)
    assert [bool(f) for f in faces] == [False] * 13 + [True] * 7
    assert 12 in calls and 13 in calls and len(calls) < 20
    np.testing.assert_allclose(faces[15][0].box, [15, 0, 25, 10])  # interpolated between detections


def test_cancel_stops_the_run(m):
    host.request_cancel()
    try:
        with pytest.raises(Cancelled):
            restore_clip(_clip(3), None, FaceModels((m["det"],), enhancer=m["gfpgan"]), OPTS)
    finally:
        host.clear_cancel()


def test_anime_box_alignment_with_a_yolo_detector_without_landmarks(m):
    frames = _clip(2)
    out, _, rep = restore_clip(frames, _ref(), FaceModels((m["yolo"],), m["swap"], m["rec"], m["gfpgan"]), OPTS)
    assert rep.detector == "anime.onnx" and rep.frames_with_faces == 2
    assert np.any(out[0, 60, 70] != frames[0, 60, 70])
