"""ComfyUI's node help panel finds our pages: for every node, the URL the frontend builds
(comfyui-frontend-package NodeHelpService.fetchCustomNodeHelp: python_module "custom_nodes.<folder>"
-> /extensions/<folder>/docs/<NodeId>/<locale>.md, falling back to /extensions/<folder>/docs/<NodeId>.md)
serves the committed web/docs page."""
from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.comfyui


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_help_page_urls_serve_our_pages(server, object_info):
    url = server[0]
    ours = {k: v for k, v in object_info.items() if k.startswith("MotionComic")}
    assert ours, "no motioncomic nodes registered"
    for node_id, info in ours.items():
        module = info["python_module"].split(".")
        assert module[0] == "custom_nodes" and len(module) >= 2, info["python_module"]
        folder = module[1].split("@")[0]  # the frontend's normalizePackId
        # the locale variant is tried first; we ship none, so it must not shadow the fallback
        status, _ = _get(f"{url}/extensions/{folder}/docs/{node_id}/en.md")
        assert status == 404, (node_id, status)
        status, body = _get(f"{url}/extensions/{folder}/docs/{node_id}.md")
        assert status == 200, (node_id, status)
        assert body == (ROOT / "web" / "docs" / f"{node_id}.md").read_bytes(), node_id


OPEN_HELP_JS = """
(() => {
  const pinia = document.querySelector('#vue-app').__vue_app__.config.globalProperties.$pinia;
  const def = pinia._s.get('nodeDef').nodeDefsByName[%s];
  const tabs = pinia._s.get('sidebarTab');
  if (tabs.activeSidebarTabId !== 'node-library') tabs.toggleSidebarTab('node-library');
  pinia._s.get('nodeHelp').openHelp(def);
  return true;
})()
"""

CLOSE_SIDEBAR_JS = """
(() => {
  const pinia = document.querySelector('#vue-app').__vue_app__.config.globalProperties.$pinia;
  const tabs = pinia._s.get('sidebarTab');
  if (tabs.activeSidebarTabId) tabs.toggleSidebarTab(tabs.activeSidebarTabId);
  return true;
})()
"""

HELP_HTML_JS = """
(() => { const el = document.querySelector('.node-help-content');
         return el && el.innerHTML.includes('<code>' + %s + '</code>') ? el.innerHTML : null; })()
"""


def test_help_panel_renders_every_page(browser):
    """The real frontend's node help panel (the same store action as the node's Info button) shows
    our page, not its inputs/outputs fallback, for every node."""
    import json

    from motioncomic import NODE_CLASS_MAPPINGS

    try:
        for node_id in sorted(NODE_CLASS_MAPPINGS):
            browser.evaluate(OPEN_HELP_JS % json.dumps(node_id))
            html = browser.wait_for(HELP_HTML_JS % json.dumps(node_id), timeout=30)
            assert "<h2>Inputs</h2>" in html and "<h2>Typical values</h2>" in html, node_id
            assert "Errors" in html, node_id
            assert not browser.evaluate("!!document.querySelector('.fallback-content')"), node_id
    finally:
        browser.evaluate(CLOSE_SIDEBAR_JS)  # the page is shared: leave the canvas uncovered
