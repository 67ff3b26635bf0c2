"""ComfyUI nodes, one file per stage, each declared once (``nodes/_schema.py`` says how).

Every module here that defines ``NODES`` (a list of ``_schema.Node``) is collected automatically, so
adding a node means adding a file. Node modules import only light things at module level (no
torch/diffusers). ``NODE_CLASS_MAPPINGS`` holds the legacy (V1) renderings, which tests, the node
docs and a ComfyUI without the current schema use; ``schema_nodes()`` renders the same declarations
as ``io.ComfyNode`` classes for ``comfy_entrypoint``.
"""
from __future__ import annotations

import importlib
import pkgutil

from ._schema import Node, render_legacy, render_schema, schema_api

#: Every node declaration by node id, in file order.
SPECS: dict[str, Node] = {}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
    if _info.name.startswith("_"):
        continue
    _mod = importlib.import_module(f".{_info.name}", __name__)
    for _node in getattr(_mod, "NODES", []):
        if _node.node_id in SPECS:
            raise RuntimeError(f"motioncomic: node id {_node.node_id} defined twice")
        SPECS[_node.node_id] = _node

NODE_CLASS_MAPPINGS: dict[str, type] = {k: render_legacy(n) for k, n in SPECS.items()}
for _key, _cls in NODE_CLASS_MAPPINGS.items():  # ``from .nodes.i2v_sampler import MotionComicImageToVideo`` works
    setattr(importlib.import_module(_cls.__module__), _key, _cls)
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {k: n.display_name for k, n in SPECS.items()}


def schema_nodes(io=None) -> list[type]:
    """The nodes as ``io.ComfyNode`` classes (``io`` defaults to the running ComfyUI's)."""
    if io is None:
        api = schema_api()
        if api is None:
            raise RuntimeError("this ComfyUI has no comfy_api.latest node schema")
        io = api[0]
    return [render_schema(n, io) for n in SPECS.values()]
