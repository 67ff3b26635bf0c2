"""Opt-in: our web extension in the REAL ComfyUI frontend, driven by playwright (headless Chromium).

Complements ``test_frontend.py`` (raw CDP: types registered, widget values round-trip, the queued
prompt equals the API twin, saved-clip preview). Here: the extension file
``/extensions/motioncomic/js/motioncomic.js`` is served, registers ``motioncomic.extension`` and
logs no error (a wrong relative import only shows up as a console error, never as an exception);
each UI workflow after ``app.loadGraphData``: no node ``has_errors`` or unregistered, no dialog
(missing nodes), every link joins existing nodes/slots, every static combo value is in its list,
number and toggle widgets hold numbers and booleans (a shifted ``widgets_values`` entry shows there);
and the letterbox overlay: the Image-to-Video sampler fed by LoadImage (a real character image)
gets a plan from ``GET /motioncomic/plan`` and draws it under the node (screenshot checked).

Needs ``COMFYUI_DIR`` (+ ``COMFYUI_PYTHON``; the session server of ``conftest.py``) and Python
``playwright`` (``requirements-comfyui-suite.txt``) driving the system Chromium (``$CHROMIUM``,
default ``/usr/bin/chromium``; playwright's own browser download is never used).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the optional suite requirements
    sync_playwright = None

pytestmark = [
    pytest.mark.comfyui,
    pytest.mark.skipif(not os.environ.get("COMFYUI_DIR") or sync_playwright is None,
                       reason="opt-in frontend test: needs COMFYUI_DIR set and playwright importable "
                              "(pip install -r requirements-comfyui-suite.txt)"),
]

ROOT = Path(__file__).resolve().parents[2]
UI_FILES = sorted((ROOT / "workflows").glob("*.json"))
EXTENSION_URL = "/extensions/motioncomic/js/motioncomic.js"  # custom_nodes/motioncomic/web/js/...
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PLAN_GREEN = (0x44, 0xAA, 0x88)  # content box colour in web/js/motioncomic.js

# Runs in the page after loadGraphData: everything a user would see as missing or broken.
CHECK_GRAPH_JS = """() => {
  const LG = window.LiteGraph, g = window.app.graph, problems = [];
  const nodes = new Map(g._nodes.map((n) => [n.id, n]));
  for (const n of g._nodes) {
    const tag = `node ${n.id} (${n.type})`;
    if (!n.type || n.type === 'undefined' || !LG.registered_node_types[n.type]) problems.push(`${tag}: type not registered`);
    if (n.has_errors) problems.push(`${tag}: has_errors`);
    for (const w of n.widgets || []) {
      const vals = w.options && w.options.values;
      if (w.type === 'combo' && Array.isArray(vals) && !vals.includes(w.value))
        problems.push(`${tag}: ${w.name} = ${JSON.stringify(w.value)} not in list`);
      if (w.type === 'number' && !Number.isFinite(w.value))  // a shifted widgets_values entry
        problems.push(`${tag}: ${w.name} = ${JSON.stringify(w.value)} is not a number`);
      if (w.type === 'toggle' && typeof w.value !== 'boolean')
        problems.push(`${tag}: ${w.name} = ${JSON.stringify(w.value)} is not a boolean`);
    }
  }
  const links = g.links instanceof Map ? [...g.links.values()] : Object.values(g.links || {});
  for (const l of links) {
    if (!l) continue;
    const a = nodes.get(l.origin_id), b = nodes.get(l.target_id);
    if (!a || !b) { problems.push(`link ${l.id}: endpoint node missing`); continue; }
    if (!a.outputs || !a.outputs[l.origin_slot]) problems.push(`link ${l.id}: no output slot ${l.origin_slot} on ${a.type}`);
    const inp = b.inputs && b.inputs[l.target_slot];
    if (!inp) problems.push(`link ${l.id}: no input slot ${l.target_slot} on ${b.type}`);
    else if (inp.link !== l.id) problems.push(`link ${l.id}: ${b.type}.${inp.name} points at link ${inp.link}`);
  }
  const dialogs = [...document.querySelectorAll('.p-dialog')].map((d) => d.innerText.slice(0, 200));
  return {problems, dialogs, links: links.filter(Boolean).length};
}"""


@pytest.fixture(scope="module")
def page(server):
    url, base = server
    console = []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(base / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1600, "height": 1000})
        pg = ctx.pages[0] if ctx.pages else ctx.new_page()
        pg.on("console", lambda m: console.append((m.type, m.text, m.location.get("url", ""))))
        pg.on("pageerror", lambda e: console.append(("pageerror", str(e), e.stack or "")))
        responses = {}
        pg.on("response", lambda r: responses.setdefault(r.url.split("?")[0].removeprefix(url), r.status))
        pg.goto(url, wait_until="networkidle", timeout=120_000)
        pg.wait_for_function("window.app && window.app.graph && window.LiteGraph", timeout=120_000)
        pg.console_log, pg.responses = console, responses
        try:
            yield pg
        finally:
            ctx.close()


def _load(page, data: dict) -> dict:
    page.keyboard.press("Escape")  # close whatever a previous load opened
    page.evaluate("async (wf) => { await window.app.loadGraphData(wf); }", data)
    page.wait_for_timeout(800)
    return page.evaluate(CHECK_GRAPH_JS)


def _ours(entry) -> bool:
    kind, text, where = entry
    return kind in ("error", "pageerror") and ("motioncomic" in text or "motioncomic" in where)


def test_extension_loads_without_errors(page):
    assert page.responses.get(EXTENSION_URL) == 200, {k: v for k, v in page.responses.items() if "extensions" in k}
    names = page.evaluate("window.app.extensions.map((e) => e.name)")
    assert "motioncomic.extension" in names
    assert [e for e in page.console_log if _ours(e)] == []
    registered = page.evaluate("Object.keys(LiteGraph.registered_node_types)")
    from motioncomic import NODE_CLASS_MAPPINGS

    assert sorted(set(NODE_CLASS_MAPPINGS) - set(registered)) == []


def test_checks_catch_a_missing_node(page):
    """The checks are not vacuous: an unknown node type is reported."""
    data = json.loads((ROOT / "workflows" / "cogvideox_i2v.json").read_text())
    data["nodes"][0]["type"] = "NoSuchNodeAnywhere"
    result = _load(page, data)
    assert any("NoSuchNodeAnywhere" in p and ("not registered" in p or "has_errors" in p) for p in result["problems"])


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.name)
def test_ui_workflow_loads_clean_in_real_frontend(path, page):
    data = json.loads(path.read_text())
    before = len(page.console_log)
    result = _load(page, data)
    assert result["problems"] == [], "\n".join(result["problems"])
    assert result["dialogs"] == [], result["dialogs"]  # e.g. the missing-nodes dialog
    assert result["links"] == len(data["links"])
    assert [e for e in page.console_log[before:] if _ours(e)] == []


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
def test_sampler_overlay_shows_the_plan(wf, page, tmp_path):
    _load(page, json.loads(wf.read_text()))
    page.wait_for_function("""() => { const n = app.graph._nodes.find((n) => n.type === 'MotionComicImageToVideo');
                               return n && n.__mcPlan; }""", timeout=30_000)
    page.wait_for_timeout(300)  # one more redraw with the plan
    plan = page.evaluate("app.graph._nodes.find((n) => n.type === 'MotionComicImageToVideo').__mcPlan")
    assert "error" not in plan, plan
    assert plan["frame"]["width"] > 0 and plan["frame"]["height"] > 0
    c = plan["content"]
    assert 0 < c["width"] <= plan["frame"]["width"] and 0 < c["height"] <= plan["frame"]["height"]
    assert plan["frames"]["valid"] in (True, False) and plan["frames"]["requested"] > 0
    # Where the panel is on screen: under the node, in canvas pixels (ds = offset + scale).
    x0, y0, x1, y1 = page.evaluate("""() => {
      const n = app.graph._nodes.find((n) => n.type === 'MotionComicImageToVideo');
      const ds = app.canvas.ds, r = app.canvas.canvas.getBoundingClientRect();
      const sx = (x) => r.left + (x + ds.offset[0]) * ds.scale, sy = (y) => r.top + (y + ds.offset[1]) * ds.scale;
      return [sx(n.pos[0]), sy(n.pos[1] + n.size[1]), sx(n.pos[0] + n.size[0]), sy(n.pos[1] + n.size[1] + 100)];
    }""")
    shot = tmp_path / f"{wf.stem}.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    box = tuple(int(v) for v in (max(x0, 0), max(y0, 0), min(x1, 1600), min(y1, 1000)))
    assert _green_pixels(shot, box) > 20, f"no content box drawn under the sampler in {shot} {box}"
