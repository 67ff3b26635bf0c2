"""ComfyUI node classes, one file per stage.

Every module in this package that defines ``NODE_CLASS_MAPPINGS`` (and
``NODE_DISPLAY_NAME_MAPPINGS``) is collected here automatically, so adding a node means adding a
file. Node modules must import only light things at module level (no torch/diffusers).
"""
from __future__ import annotations

import importlib
import pkgutil

NODE_CLASS_MAPPINGS: dict[str, type] = {}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
    if _info.name.startswith("_"):
        continue
    _mod = importlib.import_module(f".{_info.name}", __name__)
    for _key, _cls in getattr(_mod, "NODE_CLASS_MAPPINGS", {}).items():
        if _key in NODE_CLASS_MAPPINGS:
            raise RuntimeError(f"motioncomic: node id {_key} defined twice")
        NODE_CLASS_MAPPINGS[_key] = _cls
    NODE_DISPLAY_NAME_MAPPINGS.update(getattr(_mod, "NODE_DISPLAY_NAME_MAPPINGS", {}))
