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


def _with(path: Path, *types: str) -> bool:
    return set(types) <= {n["type"] for n in json.loads(path.read_text())["nodes"]}


SAMPLER_FILES = [p for p in UI_FILES if _with(p, "MotionComicImageToVideo", "LoadImage")]
#: (workflow, node type) of every node that draws a plan overlay fed by LoadImage.
OVERLAYS = [(p, "MotionComicImageToVideo") for p in SAMPLER_FILES] + [
    (p, "MotionComicLetterboxImage") for p in UI_FILES if _with(p, "MotionComicLetterboxImage", "LoadImage")]


def _green_pixels(png: Path, box: tuple[int, int, int, int]) -> int:
    import numpy as np
    from PIL import Image

    a = np.asarray(Image.open(png).convert("RGB").crop(box)).astype(int)
    return int((np.abs(a - np.array(PLAN_GREEN)).sum(-1) < 30).sum())


def test_there_is_a_sampler_workflow_to_check():
    assert SAMPLER_FILES, "no UI workflow with LoadImage -> MotionComicImageToVideo"
    assert any(t == "MotionComicLetterboxImage" for _, t in OVERLAYS), "no UI workflow with Letterbox Image"


def _wait_for_plan(browser, node_js: str) -> dict:
    browser.wait_for(f"(() => {{ const n = {node_js}; return !!(n && n.__mcPlan); }})()", timeout=30)
    browser.pump(0.6)  # one more redraw with the plan
    plan = browser.evaluate(f"{node_js}.__mcPlan")
    assert "error" not in plan, plan
    assert plan["frame"]["width"] > 0 and plan["frame"]["height"] > 0
    c = plan["content"]
    assert 0 < c["width"] <= plan["frame"]["width"] and 0 < c["height"] <= plan["frame"]["height"]
    return plan


def _green_in(browser, shot: Path, css_box, view_w: float) -> int:
    from PIL import Image

    browser.screenshot(shot)
    assert shot.stat().st_size > 10_000
    w, h = Image.open(shot).size
    k = w / view_w  # device pixels per CSS pixel
    x0, y0, x1, y1 = css_box
    box = tuple(int(v) for v in (max(x0 * k, 0), max(y0 * k, 0), min(x1 * k, w), min(y1 * k, h)))
    return _green_pixels(shot, box)


@pytest.mark.parametrize("wf,node_type", OVERLAYS, ids=lambda v: getattr(v, "name", v))
def test_overlay_shows_the_plan_on_the_classic_canvas(wf, node_type, browser, tmp_path):
    node_js = f"app.graph._nodes.find((n) => n.type === '{node_type}')"
    load_workflow(browser, json.loads(wf.read_text()), wf.name)
    plan = _wait_for_plan(browser, node_js)
    if node_type == "MotionComicImageToVideo":
        assert plan["frames"]["valid"] in (True, False) and plan["frames"]["requested"] > 0
    # Where the panel is on screen: under the node, in CSS pixels (ds = offset + scale).
    *box, view_w = browser.evaluate(f"""(() => {{
      const n = {node_js};
      const ds = app.canvas.ds, r = app.canvas.canvas.getBoundingClientRect();
      const sx = (x) => r.left + (x + ds.offset[0]) * ds.scale, sy = (y) => r.top + (y + ds.offset[1]) * ds.scale;
      return [sx(n.pos[0]), sy(n.pos[1] + n.size[1]), sx(n.pos[0] + n.size[0]), sy(n.pos[1] + n.size[1] + 100),
              window.innerWidth];
    }})()""")
    shot = tmp_path / f"{wf.stem}-{node_type}-classic.png"
    assert _green_in(browser, shot, box, view_w) > 20, f"no content box drawn under {node_type} in {shot} {box}"


SET_VUE_JS = "(async () => { await app.extensionManager.setting.set('Comfy.VueNodes.Enabled', %s); return true; })()"


@pytest.mark.parametrize("wf,node_type", OVERLAYS, ids=lambda v: getattr(v, "name", v))
def test_overlay_shows_the_plan_under_vue_nodes(wf, node_type, browser, tmp_path):
    """The Vue node renderer draws nodes as DOM (LiteGraph skips their bodies and onDrawForeground):
    the plan goes on a canvas at the end of the node's body."""
    node_js = f"app.graph._nodes.find((n) => n.type === '{node_type}')"
    load_workflow(browser, json.loads(wf.read_text()), wf.name)
    browser.evaluate(SET_VUE_JS % "true")  # switching renders the open graph's nodes as Vue components
    try:
        browser.wait_for("!!window.LiteGraph.vueNodesMode", timeout=10)
        browser.wait_for("!!document.querySelector('.lg-node[data-node-id]')", timeout=20)
        _wait_for_plan(browser, node_js)
        sel = f"[data-node-id=\"${{{node_js}.id}}\"] canvas.mc-plan"
        browser.wait_for(f"!!document.querySelector(`{sel}`)", timeout=10)
        # Vue nodes are taller than their LiteGraph size: bring the panel into view first
        browser.evaluate(f"""(() => {{
          const r = document.querySelector(`{sel}`).getBoundingClientRect(), ds = app.canvas.ds;
          ds.offset[0] -= (r.left - 300) / ds.scale;
          ds.offset[1] -= (r.top - 0.4 * window.innerHeight) / ds.scale;
          app.canvas.setDirty(true, true);
        }})()""")
        browser.pump(0.8)
        *box, view_w = browser.evaluate(f"""(() => {{
          const r = document.querySelector(`{sel}`).getBoundingClientRect();
          return [r.left, r.top, r.right, r.bottom, window.innerWidth];
        }})()""")
        assert box[2] - box[0] > 20 and box[3] - box[1] > 10, box
        shot = tmp_path / f"{wf.stem}-{node_type}-vue.png"
        assert _green_in(browser, shot, box, view_w) > 20, f"no content box drawn under {node_type} in {shot} {box}"
    finally:
        browser.evaluate(SET_VUE_JS % "false")
        browser.wait_for("!window.LiteGraph.vueNodesMode", timeout=10)
