"""Detectors: tiny SCRFD/YOLO models find synthetic faces exactly; the real anime cascade finds the
faces in the real character images; bad files give errors that name them."""
from __future__ import annotations

import numpy as np
import pytest

import tiny_faces as tf
from motioncomic.errors import MotionComicError
from motioncomic.faces import detect as D
from motioncomic.faces.pipeline import to_u8

CASCADE = tf.SHARED_FACE / "lbpcascade_animeface.xml"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("facedet")
    return {
        "scrfd": tf.make_scrfd(d / "det_10g.onnx"),
        "scrfd_batched": tf.make_scrfd(d / "scrfd_batched.onnx", batched=True),
        "scrfd_nokps": tf.make_scrfd(d / "scrfd_nokps.onnx", landmarks=False),
        "yolo": tf.make_yolo(d / "yolov8_anime.onnx", size=320),
        "yolo_kps": tf.make_yolo(d / "yolov8n-face.onnx", landmarks=True, size=320),
        "enhancer": tf.make_enhancer(d / "gfpgan.onnx", size=64),
        "dir": d,
    }


def _scene():
    img = tf.background(240, 360, seed=5)
    tf.draw_face(img, 30, 20, 70)
    tf.draw_face(img, 200, 130, 50)
    return img, [tf.face_box(30, 20, 70), tf.face_box(200, 130, 50)]


@pytest.mark.parametrize("name", ["scrfd", "scrfd_batched", "scrfd_nokps", "yolo", "yolo_kps"])
def test_tiny_detectors_find_drawn_faces_within_one_pixel(tiny, name):
    img, boxes = _scene()
    det = D.load_detector(tiny[name], det_size=320)
    faces = sorted(det.detect(to_u8(img)), key=lambda f: f.box[0])
    assert len(faces) == 2
    for f, box in zip(faces, boxes):
        np.testing.assert_allclose(f.box, box, atol=1.0)
        assert f.score > 0.9
        if det.has_landmarks:
            side = box[2] - box[0]
            expected = box[:2] + tf.LANDMARK_FRACTIONS * side
            np.testing.assert_allclose(f.landmarks, expected, atol=1.0)
        else:
            assert f.landmarks is None
    assert det.calls == 1


def test_empty_frame_has_no_faces(tiny):
    det = D.load_detector(tiny["scrfd"], det_size=320)
    assert det.detect(to_u8(tf.background(200, 300))) == []


def test_real_anime_cascade_finds_the_character_faces(characters):
    det = D.load_detector(CASCADE)
    from PIL import Image

    expected = {"game_character_fullbody.png": (105, 59, 159), "fairy_girl.png": (147, 78, 116)}
    for png in sorted(characters.glob("*.png")):
        img = np.asarray(Image.open(png).convert("RGB"))
        faces = det.detect(img)
        if png.name in expected:
            x, y, s = expected[png.name]
            assert len(faces) == 1, png.name
            assert D.iou(faces[0].box, np.array([x, y, x + s, y + s], np.float32)) > 0.8, (png.name, faces[0].box)
            assert faces[0].landmarks is None
        else:
            assert faces == [], png.name


def test_auto_choice_takes_the_first_detector_that_finds_the_reference(tiny, characters):
    from PIL import Image

    anime = np.asarray(Image.open(characters / "fairy_girl.png").convert("RGB"))
    scrfd = D.load_detector(tiny["scrfd"], det_size=320)
    cascade = D.load_detector(CASCADE)
    chosen, faces = D.choose_detector([scrfd, cascade], anime)  # the tiny SCRFD sees no red squares
    assert chosen is cascade and len(faces) == 1
    img, _ = _scene()
    chosen, faces = D.choose_detector([scrfd, cascade], to_u8(img))
    assert chosen is scrfd and len(faces) == 2 and faces[0].area >= faces[1].area
    with pytest.raises(MotionComicError, match="No detector finds a face.*det_10g.onnx: 0"):
        D.choose_detector([scrfd], to_u8(tf.background(100, 100)))


def test_corrupt_onnx_names_the_file_and_the_fix(tmp_path, tiny):
    bad = tmp_path / "det_10g.onnx"
    bad.write_bytes(tiny["scrfd"].read_bytes()[:700])  # a truncated download
    with pytest.raises(MotionComicError, match=r"det_10g\.onnx is not a readable ONNX model.*download it again"):
        D.load_detector(bad)
    html = tmp_path / "scrfd.onnx"
    html.write_text("<html>404 Not Found</html>")
    with pytest.raises(MotionComicError, match="scrfd.onnx is not a readable ONNX model"):
        D.load_detector(html)


def test_corrupt_cascade_is_named(tmp_path):
    bad = tmp_path / "lbpcascade_animeface.xml"
    bad.write_text(CASCADE.read_text()[:400])
    with pytest.raises(MotionComicError, match="lbpcascade_animeface.xml is not a readable OpenCV cascade"):
        D.load_detector(bad)


def test_model_with_unexpected_inputs_is_named(tiny):
    with pytest.raises(MotionComicError, match=r"gfpgan\.onnx looks like a face enhancer.*expected an SCRFD"):
        D.load_detector(tiny["enhancer"])


def test_builtin_cascade_is_the_auto_detector_when_nothing_is_installed(models_dir, characters):
    from PIL import Image

    from motioncomic.faces import files

    assert files.detector_choices() == [files.BUILTIN_CASCADE]
    paths, auto = files.detectors_for(files.AUTO)
    assert auto and paths == (files.resolve_detector(files.BUILTIN_CASCADE),)
    det = D.load_detector(paths[0])
    faces = det.detect(np.asarray(Image.open(characters / "fairy_girl.png").convert("RGB")))
    assert len(faces) == 1
    # a cascade of the user's own replaces the built-in one in "auto" (no duplicate detection)
    (models_dir / "facedetection").mkdir()
    (models_dir / "facedetection" / "mine.xml").write_bytes(CASCADE.read_bytes())
    paths, _ = files.detectors_for(files.AUTO)
    assert [p.name for p in paths] == ["mine.xml"]
