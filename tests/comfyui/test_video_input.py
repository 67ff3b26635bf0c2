"""Opt-in: a file-backed core VIDEO (what core Load Video hands out for an uploaded file) under the
real ``comfy_api`` of ``$COMFYUI_DIR``: a clip whose frames would not fit is refused from its
container before anything is decoded, and a clip that fits arrives whole."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.comfyui,
    pytest.mark.skipif(not os.environ.get("COMFYUI_DIR"), reason="COMFYUI_DIR not set (opt-in real-ComfyUI suite)"),
]

ROOT = Path(__file__).resolve().parents[2]

_PROBE = r"""
import importlib.util, json, sys
comfy_dir, pack, clip = sys.argv[1], sys.argv[2], sys.argv[3]
sys.argv = [sys.argv[0], "--cpu"]
sys.path.insert(0, comfy_dir)
import comfy.options
comfy.options.enable_args_parsing()
import numpy as np
spec = importlib.util.spec_from_file_location("motioncomic", pack + "/__init__.py", submodule_search_locations=[pack])
m = importlib.util.module_from_spec(spec); sys.modules["motioncomic"] = m; spec.loader.exec_module(m)
from comfy_api.latest import InputImpl
from motioncomic.errors import MotionComicError
from motioncomic.media import video as mv
from motioncomic.nodes._video import clip_in

frames = [np.full((48, 64, 3), k / 40.0, np.float32) for k in range(40)]
mv.write_video(frames, clip, fps=8)
out = {}
video = InputImpl.VideoFromFile(clip)
decoded = []
real = video.get_components
video.get_components = lambda: decoded.append(1) or real()
mv.available_memory = lambda: 2 * 40 * 48 * 64 * 12 // 3  # room for a third of the clip
try:
    clip_in(None, None, video, "Interpolate")
    out["refused"] = None
except MotionComicError as e:
    out["refused"] = str(e)
out["decoded_when_refused"] = len(decoded)
mv.available_memory = lambda: 8 << 30
c = clip_in(None, None, video, "Interpolate")
out["frames"], out["fps"] = list(c.frames.shape), c.fps
print("PROBE" + json.dumps(out))
"""


def test_a_core_video_too_big_to_decode_is_refused_before_decoding(tmp_path):
    python = os.environ.get("COMFYUI_PYTHON") or sys.executable
    r = subprocess.run([python, "-c", _PROBE, os.environ["COMFYUI_DIR"], str(ROOT), str(tmp_path / "clip.mp4")],
                       capture_output=True, text=True, timeout=300, cwd=os.environ["COMFYUI_DIR"])
    line = [x for x in r.stdout.splitlines() if x.startswith("PROBE")]
    assert line, r.stdout + r.stderr
    got = json.loads(line[-1][5:])
    assert got["refused"] and "Interpolate: the video has about" in got["refused"] and "64x48" in got["refused"], got
    assert "frame_load_cap" in got["refused"] and got["decoded_when_refused"] == 0
    assert got["frames"] == [40, 48, 64, 3] and got["fps"] == 8.0
