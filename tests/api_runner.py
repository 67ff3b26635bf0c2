"""Run an API-format graph in-process with the pack's node classes (no ComfyUI needed).

Core nodes the graphs use are stood in for by what they do: ``LoadImage`` reads the file from the
input folder with PIL, ``PreviewImage`` passes its images through. Everything else is our real node
code, called the way ComfyUI calls it (``getattr(cls(), cls.FUNCTION)(**inputs)``).
"""
from __future__ import annotations

import numpy as np


def run_api_graph(graph: dict, overrides: dict | None = None) -> dict:
    """Execute ``graph``; ``overrides[node_id]`` replaces some inputs. Returns node id -> outputs."""
    import torch
    from PIL import Image

    from motioncomic import NODE_CLASS_MAPPINGS, host

    results: dict[str, tuple] = {}

    def value(v):
        return results[v[0]][v[1]] if isinstance(v, list) else v

    def run(node_id):
        if node_id in results:
            return
        node = graph[node_id]
        for v in node["inputs"].values():
            if isinstance(v, list):
                run(v[0])
        kwargs = {k: value(v) for k, v in node["inputs"].items()}
        kwargs.update((overrides or {}).get(node_id, {}))
        if node["class_type"] == "LoadImage":
            img = np.asarray(Image.open(host.input_dir() / kwargs["image"]).convert("RGB"), np.float32) / 255
            results[node_id] = (torch.from_numpy(img)[None],)
        elif node["class_type"] == "PreviewImage":
            results[node_id] = (kwargs["images"],)
        else:
            cls = NODE_CLASS_MAPPINGS[node["class_type"]]
            out = getattr(cls(), cls.FUNCTION)(**kwargs)
            results[node_id] = out["result"] if isinstance(out, dict) else out

    for node_id in graph:
        run(node_id)
    return results
