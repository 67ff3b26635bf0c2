"""Refresh ``tests/data/comfyui/core_nodes.json`` from a running ComfyUI's ``/object_info``.

``python tests/comfyui/dump_core_nodes.py http://127.0.0.1:8188`` — keeps the core node types a
workflow of ours may use (image / mask / utils categories, video nodes), without tooltips, so the
normal test run can validate workflows without starting ComfyUI.
"""
from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "data" / "comfyui" / "core_nodes.json"
KEEP_CATEGORIES = ("image", "mask", "utils")
#: Core model nodes our letterbox graphs wrap (Wan 2.2 TI2V-5B image-to-video).
KEEP_TYPES = {"UNETLoader", "CLIPLoader", "VAELoader", "CLIPTextEncode", "ModelSamplingSD3",
              "Wan22ImageToVideoLatent", "KSampler", "VAEDecode"}
#: Inputs listing the model files of that server: any name is accepted offline (``_dynamic``).
FILE_LISTS = {("UNETLoader", "unet_name"), ("CLIPLoader", "clip_name"), ("VAELoader", "vae_name")}


def _strip(spec, dynamic: bool = False):
    if isinstance(spec, list) and len(spec) > 1 and isinstance(spec[1], dict):
        opts = {k: v for k, v in spec[1].items() if k not in ("tooltip",)}
        return [[] if dynamic else spec[0], {**opts, "_dynamic": True} if dynamic else opts]
    if dynamic and isinstance(spec, list):
        return [[], {"_dynamic": True}]
    return spec


def compact(info: dict) -> dict:
    out = {}
    for name, d in sorted(info.items()):
        if d.get("python_module", "").startswith("custom_nodes") or not (
                str(d.get("category", "")).startswith(KEEP_CATEGORIES) or name in KEEP_TYPES):
            continue
        out[name] = {
            "input": {sec: {k: _strip(v, (name, k) in FILE_LISTS) for k, v in vals.items()}
                      for sec, vals in d.get("input", {}).items()},
            "input_order": d.get("input_order", {}),
            "output": d.get("output", []),
            "output_name": d.get("output_name", []),
            "output_node": d.get("output_node", False),
            "category": d.get("category", ""),
        }
    return out


if __name__ == "__main__":
    with urllib.request.urlopen(sys.argv[1].rstrip("/") + "/object_info") as r:
        data = compact(json.loads(r.read()))
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{len(data)} core node types -> {OUT}")
