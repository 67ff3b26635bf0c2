"""Opt-in: every UI-format workflow opens in the REAL ComfyUI frontend (headless Chromium) intact.

For each ``workflows/*.json``: every node type is registered in the frontend (nothing "missing"),
after ``app.loadGraphData`` every node and link exists, each node serializes back to the widget
values stored in the file (no shifted or dropped widgets), no exception is thrown in the page, and
the prompt the frontend would queue (``app.graphToPrompt``) is the API twin in ``workflows/api/``:
same nodes, same links, same values (node ids may differ). The page and the one load of each file
are shared with ``test_frontend_extension.py`` (``browser`` / ``opened_workflow`` in
``conftest.py``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from frontend_checks import load_workflow

pytestmark = [
    pytest.mark.comfyui,
    pytest.mark.skipif(not os.environ.get("COMFYUI_DIR"), reason="COMFYUI_DIR not set (opt-in real-ComfyUI suite)"),
]

ROOT = Path(__file__).resolve().parents[2]
UI_FILES = sorted((ROOT / "workflows").glob("*.json"))
UPLOAD_VALUES = ("image", "video", "audio")

def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) <= 1e-6 * max(1.0, abs(a))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.name)
def test_ui_workflow_opens_intact_in_the_frontend(path, opened_workflow):
    wf = json.loads(path.read_text())
    res = opened_workflow(path)
    assert res["missing"] == [], f"node types missing in the frontend: {res['missing']}"
    assert res["nodes"] == len(wf["nodes"])
    assert res["links"] == len(wf["links"])
    shifted = []
    for n in wf["nodes"]:
        got = res["widgets"].get(str(n["id"]))
        want = n.get("widgets_values")
        if isinstance(want, list) and isinstance(got, list) and len(got) == len(want) + 1 \
                and got[-1] in UPLOAD_VALUES:
            got = got[:-1]  # the upload button's value, added by the frontend when it serializes
        if isinstance(want, list) and isinstance(got, list) and len(got) > len(want) \
                and _same(got[:len(want)], want):
            got = got[:len(want)]  # saved before optional widgets were added: the frontend appends their defaults
        if isinstance(want, list) and not _same(got, want):
            shifted.append(f"node {n['id']} ({n['type']}): file {want} -> frontend {got}")
    assert shifted == [], "\n".join(shifted)
    assert res["exceptions"] == [], res["exceptions"]

    twin = ROOT / "workflows" / "api" / path.name
    if not twin.exists():
        return
    api = json.loads(twin.read_text())
    ui_nodes, api_nodes = _canonical(res["output"]), _canonical(api)
    missing = [n for n in api_nodes if not any(_same(n, m) for m in ui_nodes)]
    extra = [n for n in ui_nodes if not any(_same(n, m) for m in api_nodes)]
    assert not missing and not extra, (
        "UI workflow and its API twin differ (node ids ignored):\n  only in the API file: "
        + "\n    ".join(map(str, missing)) + "\n  only in what the UI queues: " + "\n    ".join(map(str, extra)))


def _canonical(prompt: dict) -> list:
    """Nodes as [class_type, {input: value or (source class_type, slot)}], independent of node ids."""
    out = []
    for node in prompt.values():
        inputs = {}
        for k, v in node.get("inputs", {}).items():
            if isinstance(v, list) and len(v) == 2 and isinstance(v[1], int) and str(v[0]) in prompt:
                v = ["link", prompt[str(v[0])]["class_type"], v[1]]
            inputs[k] = v
        out.append([node["class_type"], inputs])
    return sorted(out, key=lambda n: json.dumps(n, sort_keys=True))


def test_frontend_check_detects_a_missing_node_type(browser):
    wf = json.loads((ROOT / "workflows" / "motioncomic_convert_clip.json").read_text())
    wf["nodes"][1]["type"] = "VHS_VideoCombine"
    res = load_workflow(browser, wf, "broken.json")
    assert res["missing"] == ["VHS_VideoCombine"]
    assert "VHS_VideoCombine" not in json.dumps(res["output"])  # a missing node is never queued


def test_saved_clip_is_previewed_in_the_frontend(browser):
    """Queue the convert workflow (as mp4) from the page: Save Video's node shows the saved clip."""
    wf = json.loads((ROOT / "workflows" / "motioncomic_convert_clip.json").read_text())
    save = next(n for n in wf["nodes"] if n["type"] == "MotionComicSaveVideo")
    save["widgets_values"][2] = "mp4"
    save["widgets_values"][1] = "motioncomic/frontend_preview"
    load_workflow(browser, wf, "preview.json")
    browser.evaluate("app.queuePrompt(0, 1).then(() => true)")
    src = browser.wait_for(
        "(() => { const el = [...document.querySelectorAll('video')].find(e => (e.src || '').includes("
        "'type=output') && (e.src || '').includes('frontend_preview_')); return el ? el.src : null; })()",
        timeout=300)
    assert "subfolder=motioncomic" in src and ".mp4" in src
    out = browser.evaluate(f"JSON.stringify(app.nodeOutputs[{json.dumps(str(save['id']))}])")
    out = json.loads(out)
    assert out["animated"] == [True] and out["images"][0]["filename"].startswith("frontend_preview_")
