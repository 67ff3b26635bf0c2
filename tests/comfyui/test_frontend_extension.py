"""Opt-in: our web extension in the REAL ComfyUI frontend (headless Chromium over ``cdp.py``).

Complements ``test_frontend.py`` (types registered, widget values round-trip, the queued prompt
equals the API twin, saved-clip preview) on the same page and the same load of each workflow
(``browser`` / ``opened_workflow`` in ``conftest.py``, ``frontend_checks.load_workflow``). Here:
the extension file ``/extensions/motioncomic/js/motioncomic.js`` is served, registers
``motioncomic.extension`` and logs no error while the page loads (a wrong relative import only shows up as a console
error, never as an exception); each UI workflow after ``app.loadGraphData``: no node ``has_errors``
or unregistered, no dialog (missing nodes), every link joins existing nodes/slots, every static
combo value is in its list, number and toggle widgets hold numbers and booleans (a shifted
``widgets_values`` entry shows there); and the letterbox overlay: the Image-to-Video sampler fed by
LoadImage (a real character image) gets a plan from ``GET /motioncomic/plan`` and draws it under
the node (screenshot checked).

Needs ``COMFYUI_DIR`` (+ ``COMFYUI_PYTHON``; the session server of ``conftest.py``) and Debian's
``chromium``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from frontend_checks import load_workflow, ours
from launch import validate_only

pytestmark = [
    pytest.mark.comfyui,
    pytest.mark.skipif(not os.environ.get("COMFYUI_DIR"), reason="COMFYUI_DIR not set (opt-in real-ComfyUI suite)"),
]

ROOT = Path(__file__).resolve().parents[2]
UI_FILES = sorted((ROOT / "workflows").glob("*.json"))
EXTENSION_URL = "/extensions/motioncomic/js/motioncomic.js"  # custom_nodes/motioncomic/web/js/...
PLAN_GREEN = (0x44, 0xAA, 0x88)  # content box colour in web/js/motioncomic.js
SAMPLER_JS = "app.graph._nodes.find((n) => n.type === 'MotionComicImageToVideo')"
_, NOT_PROVIDED = validate_only()  # model files core cannot take tiny (tests/tiny_core_wan.py)


def test_extension_loads_without_errors(browser, server):
    responses = {k.removeprefix(server[0]): v for k, v in browser.responses.items()}
    assert responses.get(EXTENSION_URL) == 200, {k: v for k, v in responses.items() if "extensions" in k}
    names = browser.evaluate("window.app.extensions.map((e) => e.name)")
    assert "motioncomic.extension" in names
    assert [e for e in browser.startup_console if ours(e)] == []
    registered = browser.evaluate("Object.keys(LiteGraph.registered_node_types)")
    from motioncomic import NODE_CLASS_MAPPINGS

    assert sorted(set(NODE_CLASS_MAPPINGS) - set(registered)) == []


def test_checks_catch_a_missing_node(browser):
    """The checks are not vacuous: an unknown node type is reported."""
    data = json.loads((ROOT / "workflows" / "cogvideox_i2v.json").read_text())
    data["nodes"][0]["type"] = "NoSuchNodeAnywhere"
    result = load_workflow(browser, data, "missing_node.json")
    assert any("NoSuchNodeAnywhere" in p and ("not registered" in p or "has_errors" in p) for p in result["problems"])


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.name)
def test_ui_workflow_loads_clean_in_real_frontend(path, opened_workflow):
    data = json.loads(path.read_text())
    result = opened_workflow(path)
    problems = [p for p in result["problems"] if not any(f'= "{f}" not in list' in p for f in NOT_PROVIDED)]
    assert problems == [], "\n".join(problems)
    assert result["dialogs"] == [], result["dialogs"]  # e.g. the missing-nodes dialog
    assert result["settled_links"] == len(data["links"])
    assert [e for e in result["console"] if ours(e)] == []


SAMPLER_FILES = [p for p in UI_FILES
                 if {"MotionComicImageToVideo", "LoadImage"} <= {n["type"] for n in json.loads(p.read_text())["nodes"]}]


def _green_pixels(png: Path, box: tuple[int, int, int, int]) -> int:
    import numpy as np
    from PIL import Image

    a = np.asarray(Image.open(png).convert("RGB").crop(box)).astype(int)
    return int((np.abs(a - np.array(PLAN_GREEN)).sum(-1) < 30).sum())


def test_there_is_a_sampler_workflow_to_check():
    assert SAMPLER_FILES, "no UI workflow with LoadImage -> MotionComicImageToVideo"


@pytest.mark.parametrize("wf", SAMPLER_FILES, ids=lambda p: p.name)
def test_sampler_overlay_shows_the_plan(wf, browser, tmp_path):
    load_workflow(browser, json.loads(wf.read_text()), wf.name)
    browser.wait_for(f"(() => {{ const n = {SAMPLER_JS}; return !!(n && n.__mcPlan); }})()", timeout=30)
    browser.pump(0.3)  # one more redraw with the plan
    plan = browser.evaluate(f"{SAMPLER_JS}.__mcPlan")
    assert "error" not in plan, plan
    assert plan["frame"]["width"] > 0 and plan["frame"]["height"] > 0
    c = plan["content"]
    assert 0 < c["width"] <= plan["frame"]["width"] and 0 < c["height"] <= plan["frame"]["height"]
    assert plan["frames"]["valid"] in (True, False) and plan["frames"]["requested"] > 0
    # Where the panel is on screen: under the node, in CSS pixels (ds = offset + scale).
    x0, y0, x1, y1, view_w = browser.evaluate(f"""(() => {{
      const n = {SAMPLER_JS};
      const ds = app.canvas.ds, r = app.canvas.canvas.getBoundingClientRect();
      const sx = (x) => r.left + (x + ds.offset[0]) * ds.scale, sy = (y) => r.top + (y + ds.offset[1]) * ds.scale;
      return [sx(n.pos[0]), sy(n.pos[1] + n.size[1]), sx(n.pos[0] + n.size[0]), sy(n.pos[1] + n.size[1] + 100),
              window.innerWidth];
    }})()""")
    shot = tmp_path / f"{wf.stem}.png"
    browser.screenshot(shot)
    assert shot.stat().st_size > 10_000
    from PIL import Image

    w, h = Image.open(shot).size
    k = w / view_w  # device pixels per CSS pixel
    box = tuple(int(v) for v in (max(x0 * k, 0), max(y0 * k, 0), min(x1 * k, w), min(y1 * k, h)))
    assert _green_pixels(shot, box) > 20, f"no content box drawn under the sampler in {shot} {box}"
