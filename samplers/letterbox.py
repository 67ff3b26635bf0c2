"""Our letterbox for any video model: fit a character into a model's frame, and crop a clip back.

Core ComfyUI's image-to-video nodes (Wan, HunyuanVideo, LTX-Video, ...) resize the start image to
the width/height they are given, centre-cropping (or stretching) a character whose aspect differs.
:func:`letterbox_images` pads the image into a legal frame of the chosen model instead, and
:func:`crop_clip` cuts every generated frame back to the character with the same
:class:`~.framing.FramePlan`.

Legal frames per model (:data:`PRESETS`) are read off core ComfyUI's node code (ComfyUI 0.3.64):

- Wan 2.2 TI2V-5B: ``Wan22ImageToVideoLatent`` (``comfy_extras/nodes_wan.py``) makes a latent of
  ``height // 16`` x ``width // 16`` and the DiT patchifies it 2x2, so sides are multiples of 32
  (the node's ``step=32``, ``min=32``); native 1280x704 (its default) or 704x1280.
- Wan 2.1 / 2.2 14B: ``WanImageToVideo``, latent ``// 8``, patch 2: multiples of 16 (``step=16``);
  native 832x480 (480p, the node's default) and 1280x720 (720p).
- HunyuanVideo: ``HunyuanImageToVideo`` (``nodes_hunyuan.py``), latent ``// 8``, patch 2:
  multiples of 16; 848x480 (the node's default) and 1280x720.
- LTX-Video: ``LTXVImgToVideo`` (``nodes_lt.py``), VAE ``// 32``: multiples of 32, ``min=64``;
  native 768x512 (its default).
- CogVideoX: this core ComfyUI has no CogVideoX nodes; the presets follow our own loaders' rules
  (``loaders/cogvideox_config.py``): 1.0 only 720x480, 1.5 short side 768 up to 1360, multiples of 16.

With width/height 0 the frame is the legal frame of about the preset's native area (never more
pixels) that gives the character the most pixels once letterboxed, i.e. the frame nearest the
image's aspect; frames stay within 1:3..3:1 (a wider image gets borders). Sizes are
(height, width) internally; messages say width x height.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from ..errors import MotionComicError
from ..loaders.video_model import FrameSpec
from . import framing as fr

#: Frames no more elongated than this (long side / short side) are chosen automatically.
MAX_ASPECT = 3.0
MAX_SIDE = fr.MAX_SIDE


@dataclass(frozen=True)
class ModelPreset:
    """The frame rule of one video model: ``native`` (height, width) frame whose area is the target,
    sides multiples of ``multiple`` and at least ``minimum``; ``spec`` instead for models with our
    own frame rule (CogVideoX); ``node`` is the core node the width/height are wired into."""

    name: str
    native: tuple[int, int]
    multiple: int
    minimum: int
    node: str
    spec: FrameSpec | None = None

    @property
    def area(self) -> int:
        return self.native[0] * self.native[1]


CUSTOM = "custom"
PRESETS: dict[str, ModelPreset] = {p.name: p for p in (
    ModelPreset("Wan 2.2 TI2V 5B (1280x704, x32)", (704, 1280), 32, 32, "Wan22ImageToVideoLatent"),
    ModelPreset("Wan 2.1/2.2 14B 480p (832x480, x16)", (480, 832), 16, 16, "WanImageToVideo"),
    ModelPreset("Wan 2.1/2.2 14B 720p (1280x720, x16)", (720, 1280), 16, 16, "WanImageToVideo"),
    ModelPreset("HunyuanVideo 480p (848x480, x16)", (480, 848), 16, 16, "HunyuanImageToVideo"),
    ModelPreset("HunyuanVideo 720p (1280x720, x16)", (720, 1280), 16, 16, "HunyuanImageToVideo"),
    ModelPreset("LTX-Video (768x512, x32)", (512, 768), 32, 64, "LTXVImgToVideo"),
    ModelPreset("CogVideoX 1.0 (720x480 only)", (480, 720), 16, 16, "CogVideoX",
                FrameSpec("fixed", sizes=((480, 720),))),
    ModelPreset("CogVideoX 1.5 (1360x768, x16)", (768, 1360), 16, 16, "CogVideoX",
                FrameSpec("aspect_range", short=768, long_max=1360, multiple=16)),
)}
#: ``custom``: any frame the user gives, multiples of 16 (what every core video model needs at least).
CUSTOM_PRESET = ModelPreset(CUSTOM, (0, 0), 16, 16, "any")
PRESET_NAMES: tuple[str, ...] = (*PRESETS, CUSTOM)


def preset(name: str) -> ModelPreset:
    if name == CUSTOM:
        return CUSTOM_PRESET
    if name not in PRESETS:
        raise MotionComicError(f"model preset {name!r} is unknown; choose one of: {', '.join(PRESET_NAMES)}")
    return PRESETS[name]


def _nearest_multiples(x: int, m: int, lo: int) -> list[int]:
    below = max(lo, x // m * m)
    above = max(lo, -(-x // m) * m)
    return sorted({below, above})


def _check_side(what: str, x: int, p: ModelPreset) -> None:
    m, lo = p.multiple, max(p.minimum, p.multiple)
    if x >= lo and x % m == 0 and x <= MAX_SIDE:
        return
    who = f"{p.name} needs" if p.name != CUSTOM else "a custom frame needs"
    near = " or ".join(str(v) for v in _nearest_multiples(min(max(x, 1), MAX_SIDE), m, lo))
    raise MotionComicError(f"target frame {what} {x}: {who} a multiple of {m} from {lo} to {MAX_SIDE}; "
                           f"nearest valid: {near}")


def check_frame(p: ModelPreset, width: int, height: int) -> tuple[int, int]:
    """A frame the user gave (width, height) -> (height, width), or an error with the nearest valid sizes."""
    if width <= 0 or height <= 0:
        hint = (f"give both (e.g. {p.native[1]}x{p.native[0]}) or 0x0 for the preset's frame"
                if p.name != CUSTOM else "a custom frame needs both, e.g. 832x480 (multiples of 16)")
        raise MotionComicError(f"target frame {width}x{height} is empty: {hint}")
    if p.spec is not None and p.spec.kind == "fixed":
        if (height, width) not in p.spec.sizes:
            valid = ", ".join(f"{w}x{h}" for h, w in p.spec.sizes)
            raise MotionComicError(f"target frame {width}x{height}: {p.name} only generates {valid}; "
                                   "use 0x0 for it")
        return height, width
    _check_side("width", width, p)
    _check_side("height", height, p)
    return height, width


@functools.lru_cache(maxsize=256)
def _best_area_frame(source: tuple[int, int], area: int, multiple: int, minimum: int) -> tuple[int, int]:
    h, w = source
    lo = max(minimum, multiple)
    best, best_key = None, None
    for fh in range(lo, min(MAX_SIDE, area // lo) + 1, multiple):
        # legal widths at this height: within the pixel budget and the aspect limit
        w_lo = max(lo, -(-int(fh / MAX_ASPECT) // multiple) * multiple)
        w_hi = min(MAX_SIDE, area // fh // multiple * multiple, int(fh * MAX_ASPECT) // multiple * multiple)
        if w_lo > w_hi:
            continue
        # the legal widths just below and just above the one that fits the image exactly
        for fw in {fh * w // (h * multiple) * multiple, -(-fh * w // (h * multiple)) * multiple}:
            fw = min(w_hi, max(w_lo, fw))
            plan = fr.plan_letterbox(source, (fh, fw))
            key = (plan.content.h * plan.content.w, -fh * fw, -abs(fh - fw))
            if best_key is None or key > best_key:
                best, best_key = (fh, fw), key
    if best is None:
        raise MotionComicError(f"no frame of {multiple}-pixel multiples fits {area} pixels")
    return best


def choose_preset_frame(p: ModelPreset, source: tuple[int, int], width: int = 0, height: int = 0
                        ) -> tuple[int, int]:
    """The frame (height, width) for an image of ``source`` (height, width) under preset ``p``.

    ``width``/``height`` 0 = chosen from the preset; otherwise checked and used as given.
    """
    source = fr._check_size(source)
    if p.name == CUSTOM or width or height:
        return check_frame(p, int(width), int(height))
    if p.spec is not None:
        return fr.choose_frame(p.spec, source)
    return _best_area_frame(source, p.area, p.multiple, p.minimum)


def letterbox_images(images, p: ModelPreset, width: int = 0, height: int = 0, mode: str = "pad",
                     fill: tuple[float, float, float] = (0.0, 0.0, 0.0)):
    """``images`` [B,H,W,C] float 0..1 (RGB, RGBA composited over ``fill``, gray) -> (framed
    [B,fh,fw,3], plan). Every image of the batch gets the same plan."""
    from .i2v import to_rgb

    x = to_rgb(images, fill, [])
    src = tuple(x.shape[1:3])
    frame = choose_preset_frame(p, src, width, height)
    plan = fr.plan_frame(src, frame, mode)
    return fr.apply_plan(x, plan, fill), plan


def crop_clip(frames, plan: fr.FramePlan, resize_back: bool = False, even: bool = False):
    """Generated ``frames`` [N,fh,fw,C] at the plan's frame -> the character only, [N,ch,cw,C]
    (or back at the source size with ``resize_back``). ``even`` drops the last row/column of an
    odd side (H.264 in yuv420p, e.g. core Save Video, refuses odd sizes)."""
    import torch

    if not isinstance(frames, torch.Tensor) or frames.ndim != 4 or frames.shape[0] == 0:
        shape = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
        raise MotionComicError(f"frames must be a non-empty IMAGE batch [N,H,W,C], got {shape}")
    fh, fw = plan.frame
    h, w = int(frames.shape[1]), int(frames.shape[2])
    if (h, w) != (fh, fw):
        raise MotionComicError(
            f"the clip's frames are {w}x{h} but the framing plan's frame is {fw}x{fh}: wire the Letterbox "
            "Image node's width and height into the image-to-video node that made this clip (and its "
            "padded image as the start image), so the model generates at the plan's frame")
    c = plan.content
    size = fr.restored_size(plan) if resize_back else (c.h, c.w)
    if even:
        size = (max(2, size[0] // 2 * 2), max(2, size[1] // 2 * 2))
    if resize_back:
        from ..media.video import check_fits

        check_fits(int(frames.shape[0]), size[1], size[0], "the clip resized back", advice="Turn resize_back off "
                   "(the character at the model's resolution), or crop a shorter clip.")
        return fr.resize_images(fr.crop_to_content(frames, plan), size)
    return frames[:, c.y : c.y + size[0], c.x : c.x + size[1]].contiguous()  # one copy of the clip
