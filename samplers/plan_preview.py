"""The letterbox plan the sampler will use, computed before anything runs (for the UI overlay).

``GET /motioncomic/plan`` (registered in ``__init__.py`` inside ComfyUI) calls
:func:`plan_for_query` with the sampler's widget values and its loader's node type and widgets.
Only configs and tensor headers are read, never the weights, and the rules are cached per file.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from ..errors import MotionComicError
from ..loaders.video_model import FrameCounts, FrameSpec
from .framing import choose_frame, plan_frame


@functools.lru_cache(maxsize=32)
def _cogvideox_rules(path: str, mtime: float) -> tuple[FrameSpec, FrameCounts]:
    from ..loaders import checkpoints
    from ..loaders.cogvideox_config import rules_for, transformer_config_from_checkpoint, variant_of_config

    p = Path(path)
    if p.is_dir():
        cfg = json.loads((p / "transformer" / "config.json").read_text())
        variant = variant_of_config(cfg, p.name)
        vae_cfg = p / "vae" / "config.json"
        scale = 2 ** (len(json.loads(vae_cfg.read_text())["block_out_channels"]) - 1) if vae_cfg.exists() else 8
    else:
        first = lambda n: next(checkpoints.iter_tensors(p, [n]))[1]  # noqa: E731
        variant, cfg = transformer_config_from_checkpoint(checkpoints.read_shapes(p), p, read_tensor=first)
        scale = 8
    rules = rules_for(variant, cfg, scale)
    return rules["frame"], rules["frame_counts"]


def model_rules(loader: str, widgets: dict[str, str]) -> tuple[FrameSpec, FrameCounts]:
    """Frame and frame-count rules of the model a loader node will load."""
    if loader == "MotionComicLoadCogVideoX":
        from ..loaders.cogvideox import resolve_model

        path = resolve_model(widgets.get("model", ""))
        return _cogvideox_rules(str(path), path.stat().st_mtime)
    if loader == "MotionComicLoadSTDiT":
        from ..loaders.opensora.aspect import FRAME_COUNTS, frame_spec

        return frame_spec(), FRAME_COUNTS
    raise MotionComicError(f"no letterbox preview for loader {loader!r}")


def plan_for_query(query: dict[str, str]) -> dict:
    """JSON-ready plan: frame, content box, mode, frame-count check."""
    try:
        width, height = int(query["width"]), int(query["height"])
    except (KeyError, ValueError) as e:
        raise MotionComicError("width and height of the input image are required") from e
    widgets = {k.split(".", 1)[1]: v for k, v in query.items() if k.startswith("loader.")}
    spec, counts = model_rules(query.get("loader", ""), widgets)
    resolution = query.get("options.resolution") or query.get("resolution") or None
    if resolution in ("0", 0):
        resolution = None
    frame = choose_frame(spec, (height, width), resolution)
    plan = plan_frame((height, width), frame, query.get("framing", "pad"))
    c = plan.content
    out = {
        "mode": plan.mode,
        "frame": {"width": frame[1], "height": frame[0]},
        "content": {"x": c.x, "y": c.y, "width": c.w, "height": c.h},
    }
    requested = int(query.get("frames") or 0) or counts.default
    out["frames"] = {"requested": requested, "valid": counts.is_valid(requested),
                     "nearest": counts.nearest(requested)}
    return out
