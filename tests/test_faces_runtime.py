"""The installed environment really runs ONNX Runtime and has cv2.CascadeClassifier; providers are
chosen by what runs; sessions are cached by path + mtime; requirements pick one runtime each."""
from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

import tiny_faces as tf
from motioncomic.faces import runtime as R

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- installed environment
def test_installed_onnxruntime_imports_and_runs_a_session(tmp_path):
    ort = R.import_ort()
    path = tf.make_enhancer(tmp_path / "e.onnx", size=16)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.zeros((1, 3, 16, 16), np.float32)
    y = sess.run(None, {"input": x})[0]
    np.testing.assert_allclose(y, 0.1, atol=1e-6)  # 0.8 * blur(0) + 0.1


def test_exactly_one_onnxruntime_distribution_is_installed():
    """onnxruntime and onnxruntime-gpu share one folder; two of them means one overwrote the other."""
    found = R.installed_ort_distributions()
    assert len(found) == 1, f"conflicting ONNX Runtime installs {found}: {R.REINSTALL}"


def test_opencv_has_cascade_classifier_and_a_single_distribution():
    import cv2

    assert hasattr(cv2, "CascadeClassifier"), "need opencv-contrib-python (OpenCV 5's opencv-python lacks it)"
    assert not cv2.CascadeClassifier(str(tf.SHARED_FACE / "lbpcascade_animeface.xml")).empty()
    names = ["opencv-python", "opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless"]
    installed = []
    for n in names:
        try:
            metadata.version(n)
            installed.append(n)
        except metadata.PackageNotFoundError:
            pass
    assert len(installed) == 1, f"several OpenCV wheels overwrite each other's cv2: {installed}"


@pytest.mark.parametrize("env", [
    {"platform_system": "Linux", "platform_machine": "x86_64"},
    {"platform_system": "Windows", "platform_machine": "AMD64"},
    {"platform_system": "Darwin", "platform_machine": "arm64"},
    {"platform_system": "Linux", "platform_machine": "aarch64"},
])
def test_requirements_install_exactly_one_onnxruntime_and_no_insightface(env):
    from packaging.requirements import Requirement

    def active(lines):
        names = []
        for line in lines:
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate(env):
                names.append(req.name.lower())
        return names

    import tomllib

    req_txt = active((ROOT / "requirements.txt").read_text().splitlines())
    pyproject = active(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    for names in (req_txt, pyproject):
        assert sum(n in ("onnxruntime", "onnxruntime-gpu") for n in names) == 1, names
        assert "insightface" not in names and "opencv-python-headless" not in names
        assert "opencv-contrib-python" in names and "onnx" in names
    gpu = env["platform_machine"] in ("x86_64", "AMD64")
    assert ("onnxruntime-gpu" in req_txt) == gpu


# --------------------------------------------------------------------------- providers and cache
def test_providers_are_chosen_by_what_runs(monkeypatch):
    ort = R.import_ort()
    chosen = R.usable_providers()
    assert chosen[-1] == R.CPU
    sess = ort.InferenceSession(R._probe_model_bytes(), providers=list(chosen))
    assert sess.get_providers()[0] == chosen[0]  # the first choice is what the session really uses
    assert R.usable_providers("cpu") == (R.CPU,)
    # a listed provider that cannot run is not proof: pretend CUDA is listed
    monkeypatch.setattr(ort, "get_available_providers", lambda: [R.CUDA, R.CPU])
    monkeypatch.setattr(R, "_probe", {})
    real = ort.InferenceSession

    class NoCuda(real):
        def __init__(self, model, opts=None, providers=None, **kw):
            super().__init__(model, opts, providers=[R.CPU], **kw)  # CUDA libraries missing: CPU only

    monkeypatch.setattr(ort, "InferenceSession", NoCuda)
    assert R._probe_cuda() == (R.CPU,)


def test_sessions_are_cached_by_path_and_mtime(tmp_path):
    R.clear_cache()
    path = tf.make_enhancer(tmp_path / "GFPGANv1.4.onnx", size=16)
    a = R.open_model(path)
    assert R.open_model(path) is a and R.cached_sessions() == 1
    tf.make_enhancer(path, kind="codeformer", size=16)  # replaced by another model
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    b = R.open_model(path)
    assert b is not a and [i.name for i in b.inputs] == ["input", "weight"]
    assert R.cached_sessions() == 1  # the stale entry is dropped
    R.clear_cache()
    assert R.cached_sessions() == 0


def test_batched_run_matches_single_runs(tmp_path):
    model = R.open_model(tf.make_enhancer(tmp_path / "dyn.onnx", size=16, dynamic=True))
    assert model.batch_dynamic()
    x = np.random.default_rng(0).random((5, 3, 16, 16), dtype=np.float32)
    batched = model.run_batched({"input": x}, max_batch=4)[0]
    single = np.concatenate([model.run({"input": x[i:i + 1]})[0] for i in range(5)])
    np.testing.assert_allclose(batched, single, atol=1e-6)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(R.MotionComicError, match="nothere.onnx does not exist"):
        R.open_model(tmp_path / "nothere.onnx")


def test_two_runtimes_installed_are_reported_with_the_fix(monkeypatch, caplog):
    monkeypatch.setattr(R, "_probe", {})
    monkeypatch.setattr(R, "installed_ort_distributions", lambda: ["onnxruntime", "onnxruntime-gpu"])
    with caplog.at_level("WARNING", logger=R.__name__):
        R.import_ort()
        R.import_ort()  # said once
    warnings = [r.getMessage() for r in caplog.records if "share one folder" in r.getMessage()]
    assert len(warnings) == 1 and "pip uninstall -y onnxruntime onnxruntime-gpu" in warnings[0]
