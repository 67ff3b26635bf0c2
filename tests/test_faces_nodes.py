"""Face nodes: choices come from the model folders, the shipped API workflow's values are valid
choices once ``tiny_faces.install_for_workflows`` ran, and the workflow runs end to end through our
node classes (real mp4 decode and encode, tiny ONNX models, the real anime cascade on disk)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tiny_faces as tf
from api_runner import run_api_graph
from motioncomic import NODE_CLASS_MAPPINGS, host
from motioncomic.errors import MotionComicError

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "workflows" / "api" / "face_restore_clip.json"
UI = ROOT / "workflows" / "face_restore_clip.json"
Loader = NODE_CLASS_MAPPINGS["MotionComicLoadFaceModels"]
Restore = NODE_CLASS_MAPPINGS["MotionComicFaceRestore"]


@pytest.fixture
def installed(models_dir, tmp_path, monkeypatch):
    tf.install_for_workflows(models_dir)
    monkeypatch.setenv("MOTIONCOMIC_INPUT_DIR", str(tmp_path / "input"))
    monkeypatch.setenv("MOTIONCOMIC_OUTPUT_DIR", str(tmp_path / "output"))
    tf.make_workflow_inputs(tmp_path / "input", n=10)
    return models_dir


def test_loader_choices_list_the_model_folders(installed):
    spec = Loader.INPUT_TYPES()["required"]
    assert spec["detector"][0] == ["auto", "lbpcascade_animeface.xml", "insightface/buffalo_l/det_10g.onnx",
                                   "(built-in) lbpcascade_animeface.xml"]
    assert spec["swapper"][0] == ["none", "buffalo_l/det_10g.onnx", "buffalo_l/w600k_r50.onnx", "inswapper_128.onnx"]
    assert spec["enhancer"][0] == ["none", "GFPGANv1.4.onnx"]
    assert spec["mask_model"][0][0] == "none"


def test_api_workflow_values_are_valid_choices(installed):
    graph = json.loads(API.read_text())
    for node_id, node in graph.items():
        cls = NODE_CLASS_MAPPINGS.get(node["class_type"])
        if cls is None:
            continue  # core nodes (LoadImage, PreviewImage)
        spec = cls.INPUT_TYPES()
        known = {**spec.get("required", {}), **spec.get("optional", {})}
        assert set(spec.get("required", {})) <= set(node["inputs"]), node_id
        for name, value in node["inputs"].items():
            assert name in known, (node_id, name)
            kind = known[name][0]
            if isinstance(kind, list) and not isinstance(value, list):
                assert value in kind, (node_id, name, value)
    assert graph["1"]["inputs"]["image"] == tf.REFERENCE_NAME
    assert graph["2"]["inputs"]["video"] == tf.CLIP_NAME


def test_ui_workflow_matches_the_api_workflow():
    api = json.loads(API.read_text())
    ui = json.loads(UI.read_text())
    by_id = {str(n["id"]): n for n in ui["nodes"]}
    assert set(by_id) == set(api)
    for node_id, node in api.items():
        assert by_id[node_id]["type"] == node["class_type"]
        values = by_id[node_id].get("widgets_values", [])
        cls = NODE_CLASS_MAPPINGS.get(node["class_type"])
        if cls is None:  # core nodes: the first widget is the API value
            widgets = [v for v in node["inputs"].values() if not isinstance(v, list)]
            assert values[: len(widgets)] == widgets, node_id
            continue
        spec = cls.INPUT_TYPES()
        order = [k for k, v in {**spec["required"], **spec.get("optional", {})}.items()
                 if isinstance(v[0], list) or v[0] in ("INT", "FLOAT", "STRING", "BOOLEAN")]
        # saved before Face Restore had its optional fps widget: the frontend keeps the default for it
        assert set(order[len(values):]) <= set(spec.get("optional", {})), node_id
        for name, v in zip(order, values):  # widgets_values follow INPUT_TYPES order
            if not isinstance(node["inputs"][name], list):
                assert v == node["inputs"][name], (node_id, name)
    links = {(str(l[1]), l[2], str(l[3])) for l in ui["links"]}
    want = {(v[0], v[1], nid) for nid, n in api.items() for v in n["inputs"].values() if isinstance(v, list)}
    assert links == want


def test_api_workflow_runs_end_to_end(installed, tmp_path):
    from motioncomic.media.video import read_video

    graph = json.loads(API.read_text())
    results = run_api_graph(graph)
    frames_in = results["2"][0].numpy()
    frames, debug = results["4"][:2]
    assert frames.shape == frames_in.shape and debug.shape == frames_in.shape
    assert frames.dtype.is_floating_point and float(frames.min()) >= 0 and float(frames.max()) <= 1
    diff = np.abs(frames.numpy() - frames_in).max(axis=-1)
    assert (diff > 0.02).sum() > 500  # the faces changed
    assert (diff == 0).mean() > 0.5  # most of each frame is untouched
    saved = host.output_dir() / results["5"][0]  # Save Video reports the path inside the output folder
    assert saved.is_file() and saved.suffix == ".mp4"
    back, fps = read_video(saved)
    assert back.shape == frames_in.shape and fps == pytest.approx(8.0)


def test_loader_refuses_nothing_to_do_and_names_wrong_models(installed):
    with pytest.raises(MotionComicError, match="nothing to do"):
        Loader().load("auto", "none", "none", "none", "none")
    with pytest.raises(MotionComicError, match=r"w600k_r50\.onnx looks like an ArcFace recogniser .*, expected a face swapper"):
        Loader().load("auto", "buffalo_l/w600k_r50.onnx", "buffalo_l/w600k_r50.onnx", "none", "none")
    with pytest.raises(MotionComicError, match=r"inswapper_128\.onnx.*expected an SCRFD"):
        Loader().load("insightface/inswapper_128.onnx", "none", "none", "GFPGANv1.4.onnx", "none")


def test_restore_node_enhance_only_with_the_real_anime_cascade(installed, characters):
    """The anime cascade (auto-chosen: the tiny SCRFD sees no face in a real drawing) + tiny enhancer."""
    import torch
    from PIL import Image

    (models,) = Loader().load("lbpcascade_animeface.xml", "none", "none", "GFPGANv1.4.onnx", "none")
    img = np.asarray(Image.open(characters / "fairy_girl.png").convert("RGB"), np.float32) / 255
    clip = torch.from_numpy(np.stack([img, img]))
    out, debug, _ = Restore().restore(clip, models, 1.0, 1.0, 0.7, 0.3, 0, 0.5, "all", True, 5, 2.0, 0.0,
                                   reference_image=clip[:1])
    _, no_debug, _ = Restore().restore(clip, models, 1.0, 1.0, 0.7, 0.3, 0, 0.5, "all", True, 5, 2.0, 0.0,
                                    debug_output=False, reference_image=clip[:1])
    assert tuple(no_debug.shape) == (1,) + tuple(clip.shape[1:]) and float(no_debug.max()) == 0.0
    changed = np.any(out.numpy() != clip.numpy(), axis=-1)
    ys, xs = np.nonzero(changed[0])
    # the face is about x=147, y=78, 116x116: changes stay within the 1.6x box crop around it
    assert xs.min() >= 147 + 58 - 93 - 1 and xs.max() <= 147 + 58 + 93 + 1
    assert ys.min() >= 78 + 58 - 93 - 1 and ys.max() <= 78 + 58 + 93 + 1
    assert changed[0].sum() > 5000
    assert debug.shape == clip.shape
