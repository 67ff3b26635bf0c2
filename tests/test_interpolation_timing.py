"""The timing section of benchmarks/interpolation.py: the time at which a clip's middle frame was
really taken is measured right, and on a clip whose frames are unevenly spaced the measured time
buys back what t = 0.5 loses (the analysis docs/interpolation.md quotes for the real clips)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tiny_interpolation import render_scene

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_interpolation", BENCH / "interpolation.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.path.remove(str(BENCH))


def _scene(s: float) -> np.ndarray:
    return render_scene(s, h=96, w=128, spin_deg=2.0, occluder=False)


@pytest.mark.parametrize("t", [0.25, 0.5, 0.7])
def test_middle_time_of_a_moving_sprite(bench, t):
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    got = bench.middle_time(_scene(0.0), _scene(t), _scene(1.0), dis)
    assert got == pytest.approx(t, abs=0.06)


def test_middle_time_of_a_repeat_and_of_a_still(bench):
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    a, b = _scene(0.0), _scene(1.0)
    assert bench.middle_time(a, a.copy(), b, dis) < 0.05
    assert bench.middle_time(a, b.copy(), b, dis) > 0.95
    assert bench.middle_time(a, a.copy(), a.copy(), dis) is None


def test_timing_section_on_an_unevenly_timed_clip(bench, tmp_path, capsys):
    times = [0.0, 0.3, 1.0, 1.8, 2.0, 2.5, 3.0]  # frames taken at uneven times
    frames = [Image.fromarray((np.clip(_scene(s), 0, 1) * 255 + 0.5).astype(np.uint8)) for s in times]
    frames[0].save(tmp_path / "uneven-1.webp", save_all=True, append_images=frames[1:], lossless=True, duration=100)
    (row,) = bench.timing(tmp_path, 12)
    true = [(times[i + 1] - times[i]) / (times[i + 2] - times[i]) for i in range(len(times) - 2)]
    assert row["name"] == "uneven"
    assert np.allclose(row["times"], true, atol=0.08), (row["times"], true)
    g = row["gains"]
    assert g["measured t"] > g["t=0.5"] + 1.0  # uneven timing is what t = 0.5 loses
    assert g["best t"] >= g["measured t"] - 0.3
    # the evenly timed triples (t = 0.467 and 0.5) are measured with flow and the plain warp
    assert row["even"]["count"] == 2 and row["even"]["of"] == 5
    assert row["even"]["flow"] > 2.0 and row["even"]["plain"] > 1.0
    assert "mean over the 1 clips" in capsys.readouterr().out


def test_reference_checkout_is_measured_beside_flow(bench, tmp_path):
    """``--reference DIR`` imports another checkout beside this one; given this very checkout, its
    ``flow`` must score exactly as ours on the same evenly timed triples (the comparison is fair)."""
    times = [0.0, 0.5, 1.0, 1.5, 2.0]
    frames = [Image.fromarray((np.clip(_scene(s), 0, 1) * 255 + 0.5).astype(np.uint8)) for s in times]
    frames[0].save(tmp_path / "even-1.webp", save_all=True, append_images=frames[1:], lossless=True, duration=100)
    (row,) = bench.timing(tmp_path, 12, reference=BENCH.parent)
    assert row["even"]["count"] == 3
    assert row["even"]["reference"] == pytest.approx(row["even"]["flow"], abs=1e-9)
    assert row["even"]["reference"] != pytest.approx(row["even"]["plain"], abs=1e-3)
    with pytest.raises(SystemExit, match="not a checkout"):
        bench.reference_flow(tmp_path)
