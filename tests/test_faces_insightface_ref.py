"""Our own SCRFD decoding, ArcFace preprocessing and inswapper latent match insightface's classes.

Expected values come from insightface 2.1's ``model_zoo`` (SCRFD, ArcFaceONNX, INSwapper) run
outside the repository on the same tiny models and scene (see ``source`` in the JSON file).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import tiny_faces as tf
from motioncomic.faces import align
from motioncomic.faces.detect import load_detector
from motioncomic.faces.pipeline import to_u8
from motioncomic.faces.swap import Recogniser, Swapper

DATA = Path(__file__).resolve().parent / "data" / "faces"


@pytest.fixture(scope="module")
def ref():
    return json.loads((DATA / "insightface_ref.json").read_text())


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("insightface_ref")
    img = tf.background(300, 420, 7)
    tf.draw_face(img, 50, 40, 110, 0.3)
    tf.draw_face(img, 260, 150, 80, 0.7)
    return {"img": img, "det": tf.make_scrfd(d / "det_10g.onnx"), "rec": tf.make_arcface(d / "w600k_r50.onnx"),
            "swap": tf.make_inswapper(d / "inswapper_128.onnx")}


def test_scrfd_boxes_and_landmarks_match_insightface(ref, setup):
    faces = load_detector(setup["det"], det_size=640).detect(to_u8(setup["img"]))
    assert len(faces) == len(ref["bboxes"]) == 2
    for f, box, kps in zip(faces, ref["bboxes"], ref["kpss"]):
        np.testing.assert_allclose(f.box, box[:4], atol=1e-3)
        assert f.score == pytest.approx(box[4], abs=1e-5)
        np.testing.assert_allclose(f.landmarks, kps, atol=1e-3)


def test_arcface_embedding_matches_insightface(ref, setup):
    rec = Recogniser(setup["rec"])
    assert (rec.mean, rec.std) == tuple(ref["rec_mean_std"])
    # insightface warps the uint8 image; so do we here, to compare the preprocessing itself
    img = to_u8(setup["img"]).astype(np.float32) / 255
    for kps, expected in zip(ref["kpss"], ref["embeddings"]):
        m = align.landmark_warp(np.array(kps, np.float32), "arcface_112", 112)
        emb = rec.embed(align.warp_face(img, m, 112)[None])[0]
        exp = np.array(expected) / np.linalg.norm(expected)
        assert float(emb @ exp) > 0.9999


def test_inswapper_crop_matches_insightface(ref, setup):
    sw = Swapper(setup["swap"])
    m = align.landmark_warp(np.array(ref["kpss"][0], np.float32), "arcface_128", 128)
    np.testing.assert_allclose(m, ref["swap_M"], atol=1e-3)
    img = to_u8(setup["img"]).astype(np.float32) / 255
    crop = np.round(align.warp_face(img, m, 128) * 255) / 255  # insightface's crop is uint8
    src = np.array(ref["embeddings"][1])
    out = sw.swap(crop[None], sw.latent(src / np.linalg.norm(src)))[0]
    expected = np.asarray(Image.open(DATA / "insightface_inswapper_crop_rgb.png"), np.float32) / 255
    # insightface truncates 255 * x to uint8; allow one level for that and for the bilinear crop
    assert np.abs(out - expected).max() <= 2.5 / 255
