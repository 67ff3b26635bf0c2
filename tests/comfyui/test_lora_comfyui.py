"""Opt-in (real ComfyUI): the CogVideoX LoRA node chained before Text to Video. Strength 0 gives the
frames of the graph without the LoRA, a strength changes them, and the cached loader output is not
changed by a LoRA run (the plain graph afterwards gives the plain frames again)."""
from __future__ import annotations

import os

import pytest

pytestmark = [
    pytest.mark.comfyui,
    pytest.mark.skipif(not os.environ.get("COMFYUI_DIR"), reason="COMFYUI_DIR not set (opt-in real-ComfyUI suite)"),
]


def _graph(loras: list[tuple[float, bool]], prefix: str, vae_tiling: str = "auto") -> dict:
    from flagship_graphs import T2V_MODEL, _node
    from tiny_lora import COMFY_LORA

    g = {"1": _node("MotionComicLoadCogVideoX", "Load", model=T2V_MODEL, vae="(from model folder)",
                    t5="(from model folder)", dtype="fp32", offload="none")}
    src = ["1", 0]
    for i, (strength, fuse) in enumerate(loras):
        key = str(10 + i)
        g[key] = _node("MotionComicCogVideoXLoRA", "LoRA", model=src, lora="CogVideo/loras/" + COMFY_LORA,
                       strength=strength, fuse=fuse)
        src = [key, 0]
    g["2"] = _node("MotionComicTextToVideo", "T2V", model=src, prompt="a knight raises a sword", negative_prompt="",
                   width=0, height=0, frames=9, steps=2, cfg=6.0, seed=3, scheduler="auto", dynamic_cfg=False,
                   vae_tiling=vae_tiling)
    g["3"] = _node("MotionComicSaveVideo", "Save", images=["2", 0], fps=["2", 1], filename_prefix=prefix,
                   format="mp4", crf=10, quality=90, save_output=True)
    return g


def _frames(server, server_log, tmp_path, graph):
    from motioncomic.media.video import read_video
    from motioncomic.remote.comfy_api import ComfyClient

    try:
        result = ComfyClient(server[0], timeout=120).run(graph, tmp_path, timeout=600)
    except Exception as exc:
        pytest.fail(f"LoRA graph failed on the real ComfyUI: {exc}\n--- server log ---\n{server_log()}")
    video = [f for f in result.files if f.suffix == ".mp4"]
    assert len(video) == 1, result.outputs
    return read_video(video[0])[0]


def test_lora_node_in_real_comfyui(server, server_log, tmp_path):
    import numpy as np

    plain = _frames(server, server_log, tmp_path / "a", _graph([], "lora_test/plain"))
    zero = _frames(server, server_log, tmp_path / "b", _graph([(0.0, False)], "lora_test/zero"))
    assert np.array_equal(plain, zero)
    chained = _frames(server, server_log, tmp_path / "c", _graph([(1.0, True), (0.5, False)], "lora_test/two"))
    assert not np.array_equal(plain, chained)
    # "off" = what "auto" does at this size, but a changed input: Text to Video runs again on the
    # cached loader output, which the LoRA runs must have left unchanged
    again = _frames(server, server_log, tmp_path / "d", _graph([], "lora_test/plain_again", vae_tiling="off"))
    assert np.array_equal(plain, again)
