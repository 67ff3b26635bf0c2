"""The letterbox plan the sampler will use, computed before anything runs (for the UI overlay).

``GET /motioncomic/plan`` (registered in ``__init__.py`` inside ComfyUI) calls
:func:`plan_for_query` with the sampler's widget values and its loader's node type and widgets.
The route is reachable by anyone who can reach the server, so: the model must be one of the
loader's own choices (a name inside the model folders), only ``config.json`` files and
``.safetensors`` headers are read (never a pickle), sizes are bounded, and every failure is a
:class:`MotionComicError` whose message names nothing outside the model folders. The rules are
cached per file.
"""
from __future__ import annotations

from ..errors import MotionComicError
from ..loaders.video_model import FrameCounts, FrameSpec
from .framing import MAX_RESOLUTION, MAX_SIDE, choose_frame, plan_frame

_HEADER_ONLY = (".safetensors", ".sft")


def _rules_of_choice(name: str, choices, resolve, rules_from_files) -> tuple[FrameSpec, FrameCounts]:
    """Rules of one of a loader's own choices, read from configs / safetensors headers only."""
    if name not in choices():
        raise MotionComicError("unknown model: choose one from the loader's list")
    path = resolve(name)
    if path.is_file() and path.suffix.lower() not in _HEADER_ONLY:
        raise MotionComicError("no preview for pickle checkpoints (.pt/.bin/.pth): the plan is shown "
                               "when the graph runs; convert the file to .safetensors to see it here")
    try:
        rules = rules_from_files(str(path), path.stat().st_mtime)[1]
    except MotionComicError:
        raise
    except Exception as e:  # unreadable config or header: say what, not where
        raise MotionComicError(f"cannot read the configuration of {name!r} ({type(e).__name__})") from None
    return rules["frame"], rules["frame_counts"]


def model_rules(loader: str, widgets: dict[str, str]) -> tuple[FrameSpec, FrameCounts]:
    """Frame and frame-count rules of the model a loader node will load."""
    if loader == "MotionComicLoadCogVideoX":
        from ..loaders import cogvideox
        from ..loaders.cogvideox_config import rules_from_files

        return _rules_of_choice(widgets.get("model", ""), cogvideox.model_choices, cogvideox.resolve_model,
                                rules_from_files)
    if loader == "MotionComicLoadWan":
        from ..loaders import wan

        return _rules_of_choice(widgets.get("model", ""), wan.model_choices, wan.resolve_model, wan.rules_from_files)
    if loader == "MotionComicLoadSTDiT":
        from ..loaders.opensora.aspect import FRAME_COUNTS, frame_spec

        return frame_spec(), FRAME_COUNTS
    raise MotionComicError(f"no letterbox preview for loader {loader!r}")


def _plan_json(plan) -> dict:
    c = plan.content
    return {
        "mode": plan.mode,
        "frame": {"width": plan.frame[1], "height": plan.frame[0]},
        "content": {"x": c.x, "y": c.y, "width": c.w, "height": c.h},
    }


def _int(query: dict[str, str], key: str) -> int:
    try:
        return int(query.get(key) or 0)
    except ValueError as e:
        raise MotionComicError(f"{key} must be a whole number, got {query.get(key)!r}") from e


def _resolution(query: dict[str, str]) -> str | None:
    """The sampler's ``resolution`` (a bucket or area name, or a short side in pixels bounded like the
    node's input: the plan's work grows with the square of it), None for the model's default."""
    value = (query.get("options.resolution") or query.get("resolution") or "").strip()
    if value in ("", "0"):
        return None
    digits = value.lstrip("0") if value.isascii() and value.isdigit() else ""  # a name: the rules check it
    if len(digits) > len(str(MAX_RESOLUTION)) or int(digits or 0) > MAX_RESOLUTION:
        shown = value if len(value) <= 12 else value[:12] + "..."
        raise MotionComicError(f"resolution {shown} is too large: the short side is at most {MAX_RESOLUTION} "
                               "pixels (0 = the model's default)")
    return value


def plan_for_query(query: dict[str, str]) -> dict:
    """JSON-ready plan: frame, content box, mode, and for the sampler the frame-count check.

    With ``preset`` it is the Letterbox Image node's plan (``preset``, ``target_width``,
    ``target_height``, ``framing``); otherwise the sampler's, from its loader's model rules.
    """
    try:
        width, height = int(query["width"]), int(query["height"])
        requested = int(query.get("frames") or 0)
    except (KeyError, ValueError) as e:
        raise MotionComicError("width, height (and frames) must be whole numbers") from e
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE) or not 0 <= requested <= 100_000:
        raise MotionComicError(f"width and height must be 1..{MAX_SIDE} and frames 0..100000")
    if "preset" in query:
        from .letterbox import choose_preset_frame, preset

        frame = choose_preset_frame(preset(query["preset"]), (height, width), _int(query, "target_width"),
                                    _int(query, "target_height"))
        return _plan_json(plan_frame((height, width), frame, query.get("framing", "pad")))
    widgets = {k.split(".", 1)[1]: v for k, v in query.items() if k.startswith("loader.")}
    spec, counts = model_rules(query.get("loader", ""), widgets)
    frame = choose_frame(spec, (height, width), _resolution(query))
    out = _plan_json(plan_frame((height, width), frame, query.get("framing", "pad")))
    requested = requested or counts.default
    out["frames"] = {"requested": requested, "valid": counts.is_valid(requested),
                     "nearest": counts.nearest(requested)}
    return out
