"""Open a UI workflow in the real ComfyUI frontend (a ``cdp.Chromium`` page) and report what a user
would see, in one load shared by ``test_frontend.py`` and ``test_frontend_extension.py``.

``load_workflow(browser, wf, name)`` closes a leftover dialog (Escape), runs ``app.loadGraphData``
and returns, right after the load:

- ``missing``: node types of the file not registered in the frontend (checked before loading);
- ``nodes``, ``links``: counts in the loaded graph; ``widgets``: node id -> serialized widget values;
- ``output``: the prompt the frontend would queue (``app.graphToPrompt``);

and after letting the page settle (extension hooks, dialogs; ``SETTLE_SECONDS``):

- ``settled_links``: links in the graph then;
- ``problems``: unregistered or ``has_errors`` nodes, combo values outside their list, number/toggle
  widgets not holding numbers/booleans (a shifted ``widgets_values`` entry), links whose endpoint
  node or slot is missing or whose input points at another link;
- ``dialogs``: text of open dialogs (e.g. the missing-nodes dialog);
- ``console``, ``exceptions``: what the page logged / threw during the load.
"""
from __future__ import annotations

import json

APP_READY_JS = ("!!(window.app && window.app.graph && window.LiteGraph && "
                "LiteGraph.registered_node_types['MotionComicSaveVideo'] && "
                "LiteGraph.registered_node_types['MotionComicImageToVideo'])")
SETTLE_SECONDS = 0.8

LOAD_JS = """
(async () => {
  const wf = %s;
  const types = [...new Set(wf.nodes.map(n => n.type))];
  const missing = types.filter(t => !LiteGraph.registered_node_types[t]);
  await app.loadGraphData(structuredClone(wf), true, true, %s);
  const g = app.graph;
  const nodes = g.nodes ?? g._nodes;
  const links = g.links instanceof Map ? g.links.size : Object.values(g.links).filter(Boolean).length;
  const widgets = {};
  for (const n of nodes) widgets[n.id] = n.serialize().widgets_values ?? null;
  const prompt = await app.graphToPrompt();
  return {missing, nodes: nodes.length, links, widgets, output: prompt.output};
})()
"""

CHECK_JS = """
(() => {
  const LG = window.LiteGraph, g = window.app.graph, problems = [];
  const all = g.nodes ?? g._nodes;
  const nodes = new Map(all.map((n) => [n.id, n]));
  for (const n of all) {
    const tag = `node ${n.id} (${n.type})`;
    if (!n.type || n.type === 'undefined' || !LG.registered_node_types[n.type]) problems.push(`${tag}: type not registered`);
    if (n.has_errors) problems.push(`${tag}: has_errors`);
    for (const w of n.widgets || []) {
      const vals = w.options && w.options.values;
      if (w.type === 'combo' && Array.isArray(vals) && !vals.includes(w.value))
        problems.push(`${tag}: ${w.name} = ${JSON.stringify(w.value)} not in list`);
      if (w.type === 'number' && !Number.isFinite(w.value))
        problems.push(`${tag}: ${w.name} = ${JSON.stringify(w.value)} is not a number`);
      if (w.type === 'toggle' && typeof w.value !== 'boolean')
        problems.push(`${tag}: ${w.name} = ${JSON.stringify(w.value)} is not a boolean`);
    }
  }
  const links = (g.links instanceof Map ? [...g.links.values()] : Object.values(g.links || {})).filter(Boolean);
  for (const l of links) {
    const a = nodes.get(l.origin_id), b = nodes.get(l.target_id);
    if (!a || !b) { problems.push(`link ${l.id}: endpoint node missing`); continue; }
    if (!a.outputs || !a.outputs[l.origin_slot]) problems.push(`link ${l.id}: no output slot ${l.origin_slot} on ${a.type}`);
    const inp = b.inputs && b.inputs[l.target_slot];
    if (!inp) problems.push(`link ${l.id}: no input slot ${l.target_slot} on ${b.type}`);
    else if (inp.link !== l.id) problems.push(`link ${l.id}: ${b.type}.${inp.name} points at link ${inp.link}`);
  }
  const dialogs = [...document.querySelectorAll('.p-dialog')].map((d) => d.innerText.slice(0, 200));
  return {problems, dialogs, settled_links: links.length};
})()
"""


def open_app(browser, url: str, timeout: float = 180.0) -> None:
    """Navigate to the ComfyUI page and wait until our node types are registered."""
    browser.goto(url)
    browser.wait_for(APP_READY_JS, timeout=timeout)


def load_workflow(browser, wf: dict, name: str) -> dict:
    """Load ``wf`` (UI format) as workflow ``name``; see the module docstring for the result."""
    browser.press("Escape", 27)  # close whatever a previous load opened (missing-nodes dialog)
    n_console, n_exc = len(browser.console), len(browser.exceptions)
    res = browser.evaluate(LOAD_JS % (json.dumps(wf), json.dumps(name)))
    browser.pump(SETTLE_SECONDS)
    res.update(browser.evaluate(CHECK_JS))
    res.update(console=browser.console[n_console:], exceptions=browser.exceptions[n_exc:])
    return res


def ours(entry: tuple[str, str, str]) -> bool:
    """A console error or page error mentioning motioncomic (in its text or its script URL)."""
    kind, text, where = entry
    return kind in ("error", "pageerror") and ("motioncomic" in text or "motioncomic" in where)
