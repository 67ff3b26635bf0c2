"""Build a UI-format (LiteGraph) workflow from an API-format prompt, using the node definitions.

The flagship graphs are written once as API prompts (what the server runs) plus a layout; this
module derives the drag-and-drop file from them, so the two formats cannot drift apart. Widget
values follow each node's input order, seed widgets get their "control after generate" value,
image-upload combos their extra value, and inputs fed by a link become sockets (widget inputs keep
their value, as the frontend saves them).
"""
from __future__ import annotations

from workflow_check import CONTROL_VALUES, PRIMITIVES, _inputs, all_definitions  # noqa: F401


def _is_link(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


def _topological(api: dict) -> list[str]:
    done: list[str] = []

    def visit(nid: str) -> None:
        if nid in done:
            return
        for v in api[nid]["inputs"].values():
            if _is_link(v):
                visit(v[0])
        done.append(nid)

    for nid in sorted(api, key=int):
        visit(nid)
    return done


def build_ui(api: dict, layout: dict[str, tuple[int, int, int, int]], notes=(), groups=(), info: str = "",
             defs: dict | None = None) -> dict:
    """UI workflow for ``api``. ``layout[node_id] = (x, y, width, height)``; ``notes`` are
    ``(x, y, w, h, markdown)``; ``groups`` are ``(title, x, y, w, h)``."""
    defs = defs or all_definitions()
    order = _topological(api)
    nodes, links = {}, []
    for nid in order:
        spec = api[nid]
        d = defs[spec["class_type"]]
        x, y, w, h = layout[nid]
        inputs, values = [], []
        for name, (kind, _options, opts, section) in _inputs(d).items():
            value = spec["inputs"].get(name)
            widget = kind in PRIMITIVES and not opts.get("forceInput")
            if _is_link(value) or not widget:
                slot = {"name": name, "type": kind if kind != "COMBO" else "COMBO", "link": None}
                if widget:
                    slot["widget"] = {"name": name}
                if section == "optional":
                    slot["shape"] = 7
                inputs.append(slot)
                if _is_link(value):
                    slot["link"] = len(links) + 1
                    links.append([len(links) + 1, int(value[0]), value[1], int(nid), len(inputs) - 1, None])
            if widget and value is None:  # the frontend queues optional widgets too: the twins would differ
                raise KeyError(f"node {nid} ({spec['class_type']}): the API prompt lacks the {section} widget {name!r}")
            if widget:
                values.append(opts.get("default") if _is_link(value) or value is None else value)
                if kind == "INT" and (opts.get("control_after_generate") or name in ("seed", "noise_seed")):
                    values.append("fixed")
                if opts.get("image_upload"):  # frontend 1.27 stores the upload button's value only for images
                    values.append("image")
        outputs = [{"name": (d.get("output_name") or d["output"])[i], "type": t, "links": [], "slot_index": i}
                   for i, t in enumerate(d["output"])]
        nodes[nid] = {
            "id": int(nid), "type": spec["class_type"], "pos": [x, y], "size": [w, h], "flags": {},
            "order": len(nodes), "mode": 0, "inputs": inputs, "outputs": outputs,
            "properties": {"Node name for S&R": spec["class_type"]}, "widgets_values": values,
        }
        if spec.get("_meta", {}).get("title"):
            nodes[nid]["title"] = spec["_meta"]["title"]
    for link in links:
        src = nodes[str(link[1])]
        link[5] = src["outputs"][link[2]]["type"]
        src["outputs"][link[2]]["links"].append(link[0])
    next_id = max(int(n) for n in api) + 1
    all_nodes = list(nodes.values())
    for i, (x, y, w, h, text) in enumerate(notes):
        all_nodes.append({"id": next_id + i, "type": "MarkdownNote", "pos": [x, y], "size": [w, h], "flags": {},
                          "order": len(all_nodes), "mode": 0, "inputs": [], "outputs": [], "properties": {},
                          "widgets_values": [text], "color": "#432", "bgcolor": "#653"})
    return {
        "last_node_id": max(n["id"] for n in all_nodes), "last_link_id": len(links), "nodes": all_nodes,
        "links": links,
        "groups": [{"title": t, "bounding": [x, y, w, h], "color": "#3f789e", "font_size": 24, "flags": {}}
                   for t, x, y, w, h in groups],
        "config": {}, "extra": {"ds": {"scale": 0.8, "offset": [0, 0]}, "info": info}, "version": 0.4,
    }
