"""The one image-to-video entry: validate -> frame (pad/crop/stretch) -> family engine -> crop back.

Engines are looked up by ``VideoModel.family`` in :data:`ENGINES` (module under ``samplers/`` and
function name), each called as ``sample(model, framed, prompt, negative_prompt, num_frames=...,
steps=..., cfg=..., seed=..., options=..., report=...) -> frames [N,fh,fw,3]``. A module may also
define ``check_image(model, (h, w))`` and ``check_options(model, steps, cfg, options)``: both run
before a deferred model reads its weights, so a wrong setting costs no load.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from ..errors import MotionComicError
from . import framing as fr

log = logging.getLogger(__name__)

#: family -> (module in samplers/, function). Add a family by adding a row.
ENGINES: dict[str, tuple[str, str]] = {
    "cogvideox": ("cogvideox", "sample"),
    "opensora": ("opensora", "sample"),
    "svd": ("svd", "sample"),
    "mimicmotion": ("mimicmotion", "sample"),
    "wan": ("wan", "sample"),
}
#: Smallest image side we accept: below this there is no character to animate.
MIN_SIDE = 16


@dataclass
class I2VResult:
    """``frames`` [N,h,w,3] float32 0..1 (content only, optionally resized back), ``fps``, the
    framing ``plan`` and a human-readable ``report`` of what was done."""

    frames: Any
    fps: float
    plan: fr.FramePlan
    report: list[str] = field(default_factory=list)


def _engine_module(family: str):
    if family not in ENGINES:
        raise MotionComicError(f"no sampler for model family {family!r}; known: {', '.join(ENGINES)}")
    return importlib.import_module(f".{ENGINES[family][0]}", __package__)


def engine_for(family: str):
    return getattr(_engine_module(family), ENGINES[family][1])


def to_rgb(image, fill: tuple[float, float, float], report: list[str]):
    """Any IMAGE-like tensor -> [B,H,W,3] float32 (RGBA composited over ``fill``, gray -> RGB)."""
    import torch

    if not isinstance(image, torch.Tensor):
        raise MotionComicError(f"image must be a tensor [B,H,W,C], got {type(image).__name__}")
    x = image
    if x.ndim == 2:
        x = x[None, :, :, None]
    elif x.ndim == 3:
        x = x[None] if x.shape[-1] in (1, 2, 3, 4) else x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 2, 3, 4) or x.shape[0] == 0:
        raise MotionComicError(f"image must be [B,H,W,C] with 1-4 channels, got shape {tuple(image.shape)}")
    h, w = x.shape[1:3]
    if h < MIN_SIDE or w < MIN_SIDE:
        raise MotionComicError(
            f"image is {w}x{h} pixels; it must be at least {MIN_SIDE}x{MIN_SIDE}. Use a real character image."
        )
    x = x.float()
    c = x.shape[-1]
    if c in (2, 4):
        alpha, color = x[..., -1:], x[..., :-1]
        bg = torch.tensor(fill[: color.shape[-1]] if color.shape[-1] == 3 else fill[:1], dtype=x.dtype, device=x.device)
        x = color * alpha + bg * (1 - alpha)
        report.append(f"alpha channel: composited over the border colour {tuple(round(f, 3) for f in fill)}")
    if x.shape[-1] == 1:
        x = x.expand(-1, -1, -1, 3)
        report.append("grayscale image: copied to RGB")
    return x  # values outside 0..1 are clamped by the frame resize


def prepare_image(image, fill: tuple[float, float, float], report: list[str]):
    """Any IMAGE-like tensor -> [1,H,W,3] float32 0..1: the first image of a batch, as :func:`to_rgb`."""
    x = to_rgb(image, fill, report)
    if x.shape[0] > 1:
        report.append(f"image batch of {x.shape[0]}: using the first image")
        x = x[:1]
    return x


def image_to_video(model, image, prompt: str, negative_prompt: str = "", *, num_frames: int | None = None,
                   steps: int | None = None, cfg: float | None = None, seed: int = 0, framing: str = "pad",
                   fill: tuple[float, float, float] = (0.0, 0.0, 0.0), resolution: str | int | None = None,
                   resize_back: bool = False, options: dict | None = None) -> I2VResult:
    """Animate ``image`` ([1,H,W,C] float 0..1, any size >= 16 px, RGB/RGBA/gray) with ``model``.

    ``num_frames`` None = the model's default (checked against its frame-count rule). ``framing``
    pad (default; borders in ``fill`` colour, cropped off afterwards), crop or stretch.
    ``resolution``: for CogVideoX 1.5 the short side (default 768), for Open-Sora a bucket name.
    ``options``: family-specific settings (CogVideoX: dynamic_cfg, scheduler, vae_tiling, callback).
    """
    report: list[str] = []
    if getattr(model, "task", "i2v") == "t2v":
        raise MotionComicError(
            f"{model.name or model.variant} is a text-to-video model: it cannot start from an image. Use the "
            "Text to Video node with it, or load an image-to-video checkpoint (CogVideoX-5b-I2V, "
            "CogVideoX1.5-5B-I2V) for Image to Video.")
    if model.text_tokens and (not prompt or not prompt.strip()):  # image-only models (SVD) take none
        raise MotionComicError("the prompt is empty; describe the motion (e.g. 'she waves and smiles')")
    n = model.frame_counts.default if num_frames in (None, 0) else int(num_frames)
    model.frame_counts.check(n, model.name or model.variant)
    img = prepare_image(image, fill, report)
    src = tuple(img.shape[1:3])
    if (options or {}).get("resolution"):
        resolution = options["resolution"]  # a family options node (Open-Sora bucket name) wins
    elif model.frame.kind == "buckets" and not isinstance(resolution, str):
        resolution = None  # the INT short-side input is for aspect-range models; buckets go by name
    engine = _engine_module(model.family)
    check = getattr(engine, "check_image", None)  # optional per-family size rule
    if check is not None:
        check(model, src)
    check = getattr(engine, "check_options", None)  # optional: the family's settings, before any weight
    if check is not None:
        check(model, steps, cfg, options)
    frame = fr.choose_frame(model.frame, src, resolution)
    plan = fr.plan_frame(src, frame, framing)
    framed = fr.apply_plan(img, plan, fill)
    report.append("framing " + plan.describe())
    if hasattr(model, "ensure_loaded"):
        model.ensure_loaded()  # every check above ran before the weights are read
    frames = engine_for(model.family)(model, framed, prompt, negative_prompt, num_frames=n, steps=steps,
                                      cfg=cfg, seed=seed, options=options, report=report)
    out = fr.crop_to_content(frames, plan, resize_back)
    report.append(f"output {out.shape[0]} frames {out.shape[2]}x{out.shape[1]} at {model.fps:g} fps")
    return I2VResult(out, float(model.fps), plan, report)
