"""API-format workflows: load them and override the image / prompt / seed inputs by node type.

An API-format graph is ``{node_id: {"class_type": str, "inputs": {name: value | [src_id, slot]}}}``
(ComfyUI: Workflow → Export (API)). Overrides never touch linked inputs (lists) and never modify
the caller's dict.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from ..errors import MotionComicError

#: (class_type, input name) pairs that take an uploaded image / video file name.
IMAGE_INPUTS = [("LoadImage", "image")]
VIDEO_INPUTS = [("MotionComicLoadVideo", "video"), ("LoadVideo", "file")]
SEED_INPUTS = ("seed", "noise_seed")


def is_ui_format(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("nodes"), list) and "links" in data


def load_workflow(path: str | os.PathLike) -> dict:
    """Read an API-format workflow; a UI-format file gets an error saying how to export it."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MotionComicError(f"workflow file not found: {p}") from exc
    except (OSError, ValueError) as exc:
        raise MotionComicError(f"cannot read workflow {p}: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("prompt"), dict) and "output" not in data:
        data = data["prompt"]  # {"prompt": {...}} as posted to /prompt
    if is_ui_format(data):
        raise MotionComicError(f"{p.name} is a UI-format workflow (the drag-and-drop kind). The API needs the "
                               "API format: use the file in workflows/api/, or in ComfyUI Workflow → Export (API).")
    if not isinstance(data, dict) or not data or not all(
            isinstance(v, dict) and "class_type" in v for v in data.values()):
        raise MotionComicError(f"{p.name} is not an API-format ComfyUI workflow "
                               "({node_id: {class_type, inputs}}).")
    return data


def _linked(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


def _set(prompt: dict, pairs, value, what: str, changes: list[str]) -> None:
    hits = 0
    for nid, node in prompt.items():
        for ctype, name in pairs:
            inputs = node.setdefault("inputs", {})
            if node.get("class_type") == ctype and not _linked(inputs.get(name)):
                inputs[name] = value
                changes.append(f"{what} -> node {nid} ({ctype}).{name}")
                hits += 1
    if not hits:
        types = sorted({n.get("class_type", "?") for n in prompt.values()})
        raise MotionComicError(f"cannot set the {what}: the workflow has no {' / '.join(c for c, _ in pairs)} node "
                               f"(it has {', '.join(types)})")


def prompt_targets(prompt: dict) -> list[tuple[str, str]]:
    """Unlinked inputs holding the user's prompt: ``text``/``prompt`` on our nodes, else CLIPTextEncode."""
    ours = [(nid, name) for nid, n in prompt.items() for name in ("text", "prompt")
            if str(n.get("class_type", "")).startswith("MotionComic")
            and isinstance((n.get("inputs") or {}).get(name), str)]
    if ours:
        return ours
    return [(nid, "text") for nid, n in prompt.items()
            if n.get("class_type") == "CLIPTextEncode" and isinstance((n.get("inputs") or {}).get("text"), str)][:1]


def apply_overrides(prompt: dict, *, image: str | None = None, video: str | None = None,
                    text: str | None = None, seed: int | None = None) -> tuple[dict, list[str]]:
    """Copy of ``prompt`` with the given inputs replaced; returns it and a list of what changed.

    ``image`` / ``video`` are names as returned by the upload (they live in the server's input
    folder). ``text`` goes to every unlinked ``text``/``prompt`` input of a MotionComic node (the Expand
    Prompt node's ``text`` in the full chain, the sampler's ``prompt`` in the basic one). ``seed`` goes to every unlinked
    ``seed``/``noise_seed`` input.
    """
    out = copy.deepcopy(prompt)
    changes: list[str] = []
    if image is not None:
        _set(out, IMAGE_INPUTS, image, "image", changes)
    if video is not None:
        _set(out, VIDEO_INPUTS, video, "video", changes)
    if text is not None:
        targets = prompt_targets(out)
        if not targets:
            raise MotionComicError("cannot set the prompt: no MotionComic node with a text 'prompt' input and no "
                                   "CLIPTextEncode in the workflow")
        for nid, name in targets:
            out[nid]["inputs"][name] = text
            changes.append(f"prompt -> node {nid} ({out[nid]['class_type']}).{name}")
    if seed is not None:
        hits = 0
        for nid, node in out.items():
            for name in SEED_INPUTS:
                v = (node.get("inputs") or {}).get(name)
                if isinstance(v, int) and not isinstance(v, bool):
                    node["inputs"][name] = int(seed)
                    changes.append(f"seed -> node {nid} ({node['class_type']}).{name}")
                    hits += 1
        if not hits:
            raise MotionComicError("cannot set the seed: no node with an unlinked 'seed' input")
    return out, changes
