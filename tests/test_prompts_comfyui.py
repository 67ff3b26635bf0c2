"""Opt-in: the expand node inside a real ComfyUI server (needs COMFYUI_DIR and COMFYUI_PYTHON).

Checks what only a real server shows: the node runs from an API prompt, a successful answer is
kept in ComfyUI's cache (the LLM is not asked again on re-queue), and after a fallback the node
re-runs on the next queue so a revived LLM server gets used.
"""
from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import tiny_prompts as tp

pytestmark = pytest.mark.skipif(
    not (os.environ.get("COMFYUI_DIR") and os.environ.get("COMFYUI_PYTHON")),
    reason="real-ComfyUI suite: set COMFYUI_DIR and COMFYUI_PYTHON",
)
sys.path.insert(0, str(Path(__file__).resolve().parent / "comfyui"))


@pytest.fixture(scope="module")
def comfy(tmp_path_factory):
    import launch

    base = launch.prepare_base(tmp_path_factory.mktemp("comfy_prompts"))
    proc, url = launch.start(base)
    try:
        yield url, base
    finally:
        launch.stop(proc)


def _queue(url: str, base_url: str, model: str) -> dict:
    graph = {
        "1": {"class_type": "MotionComicExpandPrompt", "inputs": {
            "text": "她挥手", "family": "cogvideox", "action": "wave", "camera": "static", "style": "anime",
            "backend": "openai", "base_url": base_url, "model": model, "api_key_env": "",
            "timeout": 5.0, "llm_seed": 1, "temperature": 0.1}},
        "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
        "3": {"class_type": "PreviewAny", "inputs": {"source": ["1", 1]}},
    }
    req = urllib.request.Request(url + "/prompt", json.dumps({"prompt": graph, "client_id": "t"}).encode(),
                                 {"Content-Type": "application/json"})
    pid = json.loads(urllib.request.urlopen(req, timeout=30).read())["prompt_id"]
    for _ in range(240):
        hist = json.loads(urllib.request.urlopen(f"{url}/history/{pid}", timeout=30).read())
        if pid in hist:
            return hist[pid]
        time.sleep(0.25)
    raise TimeoutError("ComfyUI did not finish the prompt")


def test_expand_node_in_real_comfyui(comfy):
    url, base = comfy
    with tp.ChatServer() as srv:
        for _ in range(2):
            h = _queue(url, srv.base_url, "normal")
            assert h["status"]["status_str"] == "success"
        assert srv.calls["normal"] == 1  # the re-queue came from ComfyUI's cache
        text = json.dumps(h["outputs"])
        assert "silver hair" in text
    dead = f"http://127.0.0.1:{tp.free_port()}/v1"
    for _ in range(2):
        h = _queue(url, dead, "x")
        assert h["status"]["status_str"] == "success"
        assert "fallback: rule-based" in json.dumps(h["outputs"])
    log = (base / "comfyui.log").read_text(errors="replace")
    assert log.count("using the rule-based expansion") == 2  # re-ran after the fallback
