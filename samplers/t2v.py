"""The text-to-video entry: validate the frame size and count -> family engine's ``sample_text``.

Same settings as Image to Video minus the image; the frame size is the user's choice within the
model's legal sizes (:func:`legal_size`): CogVideoX 1.0 only its native 720x480, CogVideoX 1.5
any width and height that are multiples of 16 with the long side at most 1360/768 of the short
side (official: 1360x768).
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from ..errors import MotionComicError
from ..loaders.video_model import FrameSpec

log = logging.getLogger(__name__)

#: family -> (module in samplers/, function taking (model, (h, w), prompt, negative, ...)).
ENGINES: dict[str, tuple[str, str]] = {"cogvideox": ("cogvideox", "sample_text")}


@dataclass
class T2VResult:
    """``frames`` [N,H,W,3] float32 0..1, ``fps``, the frame ``size`` (h, w), and a ``report``."""

    frames: Any
    fps: float
    size: tuple[int, int]
    report: list[str] = field(default_factory=list)


def default_size(spec: FrameSpec) -> tuple[int, int]:
    """The model's default (height, width): its fixed size, or landscape short x long_max."""
    if spec.kind == "fixed":
        return spec.sizes[0]
    if spec.kind == "aspect_range":
        return spec.short, spec.long_max
    raise MotionComicError(f"text to video needs a model with a fixed or aspect-range frame, not {spec.kind!r}")


def legal_size(spec: FrameSpec, height: int, width: int, model_name: str = "this model") -> tuple[int, int]:
    """(height, width) if the model can generate that frame, else an error with valid sizes.

    0 for either side = the model's default for both."""
    if not height or not width:
        return default_size(spec)
    h, w = int(height), int(width)
    if spec.kind == "fixed":
        if (h, w) in spec.sizes:
            return h, w
        sizes = ", ".join(f"{sw}x{sh}" for sh, sw in spec.sizes)
        raise MotionComicError(f"{w}x{h} is not a frame {model_name} can generate; it only makes {sizes} "
                               "(width x height). Set width and height to 0 for the default.")
    m = spec.multiple
    short, long_side = min(h, w), max(h, w)
    ratio = spec.long_max / spec.short
    problems = []
    if h % m or w % m or short < m:
        problems.append(f"width and height must be positive multiples of {m}")
    if long_side > short * ratio + 1e-6:
        problems.append(f"the long side may be at most {ratio:.3g} x the short side")
    if problems:
        near_w, near_h = (max(m, round(v / m) * m) for v in (w, h))
        near_long = min(max(near_w, near_h), int(min(near_w, near_h) * ratio + 1e-6) // m * m)
        near = (near_long, min(near_w, near_h)) if w >= h else (min(near_w, near_h), near_long)
        raise MotionComicError(
            f"{w}x{h} is not a frame {model_name} can generate: {'; '.join(problems)}. Nearest valid: "
            f"{near[0]}x{near[1]}; official {spec.long_max}x{spec.short} (or {spec.short}x{spec.long_max}).")
    return h, w


def text_to_video(model, prompt: str, negative_prompt: str = "", *, width: int = 0, height: int = 0,
                  num_frames: int | None = None, steps: int | None = None, cfg: float | None = None,
                  seed: int = 0, options: dict | None = None) -> T2VResult:
    """Generate a clip from ``prompt`` with a text-to-video ``model`` (``model.task == "t2v"``).

    ``width``/``height`` 0 = the model's default frame; ``num_frames`` None/0 = its default count.
    ``options``: family settings as for Image to Video (CogVideoX: scheduler, dynamic_cfg, vae_tiling).
    """
    if getattr(model, "task", "i2v") != "t2v":
        raise MotionComicError(
            f"{model.name or model.variant} is an image-to-video model: it needs a first frame. Use the "
            "Image to Video node with it, or load a text-to-video checkpoint (CogVideoX-5b, CogVideoX-2b, "
            "CogVideoX1.5-5B) for Text to Video.")
    if not prompt or not prompt.strip():
        raise MotionComicError("the prompt is empty; describe the shot (who, what moves, camera, style)")
    if model.family not in ENGINES:
        raise MotionComicError(f"no text-to-video sampler for model family {model.family!r}; known: {', '.join(ENGINES)}")
    name = model.name or model.variant
    n = model.frame_counts.default if num_frames in (None, 0) else int(num_frames)
    model.frame_counts.check(n, name)
    size = legal_size(model.frame, height, width, name)
    module, func = ENGINES[model.family]
    engine_module = importlib.import_module(f".{module}", __package__)
    check = getattr(engine_module, "check_options", None)  # the family's settings, before any weight
    if check is not None:
        check(model, steps, cfg, options)
    if hasattr(model, "ensure_loaded"):
        model.ensure_loaded()  # every check above ran before the weights are read
    engine = getattr(engine_module, func)
    report: list[str] = []
    frames = engine(model, size, prompt, negative_prompt, num_frames=n, steps=steps, cfg=cfg, seed=seed,
                    options=options, report=report)
    report.append(f"output {frames.shape[0]} frames {size[1]}x{size[0]} at {model.fps:g} fps")
    return T2VResult(frames, float(model.fps), size, report)
