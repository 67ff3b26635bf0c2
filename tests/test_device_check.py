"""benchmarks/device_check.py, the script a GPU session runs, works: a dry run of two of its checks on
the CPU, and a failing check is reported, the others go on, and the exit status says so."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "device_check.py"


def _run(tmp_path, *args):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out), *args],
                          capture_output=True, text=True, timeout=600)
    return proc, json.loads(out.read_text())


def test_dry_run_on_the_cpu(tmp_path):
    proc, res = _run(tmp_path, "--device", "cpu", "--only", "cogvideox", "fits")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    cog = res["cogvideox"]
    assert cog["ok"] and set(cog) >= {"fp32_none", "fp32_model", "fp32_sequential", "bf16_none"}
    assert all(cog[f"fp32_{m}"]["equal_to_offload_none"] for m in ("none", "model", "sequential"))
    assert cog["fp32_none"]["max_abs"] == 0.0  # the CPU against itself: the same frames
    assert 0 < cog["bf16_none"]["mean_abs"] < 0.05  # bf16 differs, a little
    assert "needs a CUDA device" in res["fits"]["skipped"]
    assert "2 of 2 passed" in proc.stdout


def test_a_failing_check_is_reported_and_the_status_is_1(tmp_path):
    proc, res = _run(tmp_path, "--device", "cuda:99", "--only", "fits", "cogvideox")
    assert proc.returncode == 1
    assert res["fits"]["ok"] is False and res["fits"]["error"] and "cogvideox" in res
    assert "failed: " in proc.stdout
