"""Pad/crop plans that keep the character's proportions (pure functions, plus two tensor helpers).

Video models generate at a native frame. Instead of stretching the character into it, we scale the
image to fit inside the frame and fill the rest with a border colour (``pad``, the default), then
crop every generated frame back to the content box. ``crop`` (cover the frame, cut the overflow)
and ``stretch`` (what other wrappers do) exist so users can compare.

Sizes are (height, width) throughout. Boxes are in frame pixels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from ..errors import MotionComicError
from ..loaders.video_model import FrameSpec

Mode = Literal["pad", "crop", "stretch"]
MODES: tuple[str, ...] = ("pad", "crop", "stretch")
#: Largest image or frame side anything here plans for (ComfyUI's ``nodes.MAX_RESOLUTION``).
MAX_SIDE = 16384
#: Largest ``resolution`` (short side in pixels) a sampler takes: the Image to Video node's maximum,
#: and the bound of the ``/motioncomic/plan`` route, whose query anyone reaching the server can send.
MAX_RESOLUTION = 2048


@dataclass(frozen=True)
class Box:
    y: int
    x: int
    h: int
    w: int


@dataclass(frozen=True)
class FramePlan:
    """Where the source image goes in the model frame, and how to undo it.

    ``scaled`` is the size the source is resized to. In ``pad`` mode it sits at ``content`` inside
    the frame (the rest is border). In ``crop`` mode the frame is the window ``window`` of the
    scaled image. In ``stretch`` mode the source is resized to the frame.
    """

    mode: str
    source: tuple[int, int]
    frame: tuple[int, int]
    scaled: tuple[int, int]
    content: Box
    window: Box

    def describe(self) -> str:
        c = self.content
        return (
            f"{self.mode}: {self.source[1]}x{self.source[0]} -> frame {self.frame[1]}x{self.frame[0]},"
            f" content {c.w}x{c.h} at ({c.x},{c.y})"
        )


def _even_split(total: int) -> tuple[int, int]:
    before = total // 2
    return before, total - before


def plan_letterbox(source: tuple[int, int], frame: tuple[int, int]) -> FramePlan:
    """Scale ``source`` to fit inside ``frame``, centred; the content box keeps its aspect.

    The fitted side fills the frame exactly; the other side is rounded to the nearest pixel (at
    least 1), so the content aspect differs from the source's by under one pixel of rounding.
    """
    (h, w), (fh, fw) = _check_size(source), _check_size(frame, "frame")
    if fw * h <= fh * w:  # width-limited
        sw, sh = fw, min(fh, max(1, round(h * fw / w)))
    else:
        sh, sw = fh, min(fw, max(1, round(w * fh / h)))
    top, _ = _even_split(fh - sh)
    left, _ = _even_split(fw - sw)
    content = Box(top, left, sh, sw)
    return FramePlan("pad", (h, w), (fh, fw), (sh, sw), content, Box(0, 0, sh, sw))


def plan_cover(source: tuple[int, int], frame: tuple[int, int]) -> FramePlan:
    """Scale ``source`` to cover ``frame`` and keep the centred window (cuts the overflow)."""
    (h, w), (fh, fw) = _check_size(source), _check_size(frame, "frame")
    if fw * h >= fh * w:  # width-limited cover: width fills, height overflows
        sw, sh = fw, max(fh, round(h * fw / w))
    else:
        sh, sw = fh, max(fw, round(w * fh / h))
    top, _ = _even_split(sh - fh)
    left, _ = _even_split(sw - fw)
    return FramePlan("crop", (h, w), (fh, fw), (sh, sw), Box(0, 0, fh, fw), Box(top, left, fh, fw))


def plan_stretch(source: tuple[int, int], frame: tuple[int, int]) -> FramePlan:
    (h, w), (fh, fw) = _check_size(source), _check_size(frame, "frame")
    return FramePlan("stretch", (h, w), (fh, fw), (fh, fw), Box(0, 0, fh, fw), Box(0, 0, fh, fw))


def plan_frame(source: tuple[int, int], frame: tuple[int, int], mode: str = "pad") -> FramePlan:
    if mode == "pad":
        return plan_letterbox(source, frame)
    if mode == "crop":
        return plan_cover(source, frame)
    if mode == "stretch":
        return plan_stretch(source, frame)
    raise MotionComicError(f"framing mode {mode!r} is unknown; use one of {', '.join(MODES)}")


def _check_size(size: tuple[int, int], what: str = "image") -> tuple[int, int]:
    h, w = int(size[0]), int(size[1])
    if h < 1 or w < 1:
        raise MotionComicError(f"{what} size {w}x{h} is empty; width and height must be at least 1")
    return h, w


def parse_color(text: str) -> tuple[float, float, float]:
    """'#RRGGBB', 'RRGGBB' or 'r,g,b' (0-255) -> floats 0..1."""
    s = (text or "").strip()
    try:
        if "," in s:
            vals = [int(v) for v in s.split(",")]
        else:
            s = s.lstrip("#")
            vals = [int(s[i : i + 2], 16) for i in (0, 2, 4)] if len(s) == 6 else []
        if len(vals) != 3 or not all(0 <= v <= 255 for v in vals):
            raise ValueError
    except ValueError:
        raise MotionComicError(f"border colour {text!r} is not a colour; use '#000000' or '0,0,0'") from None
    return tuple(v / 255.0 for v in vals)


# --------------------------------------------------------------------------- native frame choice
def _round_to(x: float, multiple: int) -> int:
    return max(multiple, int(round(x / multiple)) * multiple)


def choose_frame(spec: FrameSpec, source: tuple[int, int], resolution: str | int | None = None) -> tuple[int, int]:
    """The model frame (height, width) for an image of size ``source`` under ``spec``.

    ``resolution``: for ``aspect_range`` the short side in pixels (default ``spec.short``); for
    ``buckets`` a key of ``spec.buckets`` such as ``"720p"``; for ``area`` a key of ``spec.areas``
    or the short side of the 16:9 frame of that area (480 -> 480x853 pixels). Ignored for ``fixed``.
    """
    h, w = _check_size(source)
    if spec.kind == "fixed":
        return spec.sizes[0]
    if spec.kind == "aspect_range":
        short = int(resolution) if resolution not in (None, "", 0) else spec.short
        if short % spec.multiple or short < spec.multiple:
            raise MotionComicError(
                f"short side {short} must be a positive multiple of {spec.multiple}; "
                f"nearest: {_round_to(short, spec.multiple)}"
            )
        long_max = (spec.long_max * short // spec.short) // spec.multiple * spec.multiple
        long_side = min(long_max, max(short, _round_to(short * max(h, w) / min(h, w), spec.multiple)))
        return (long_side, short) if h > w else (short, long_side)
    if spec.kind == "buckets":
        key = str(resolution or spec.default_resolution)
        if key not in spec.buckets:
            raise MotionComicError(
                f"resolution {key!r} is unknown; choose one of {', '.join(spec.buckets)}"
            )
        target = math.log(h / w)
        return min(spec.buckets[key], key=lambda s: (abs(math.log(s[0] / s[1]) - target), -s[0] * s[1]))
    if spec.kind == "area":
        return area_frame(area_of(spec, resolution), spec.multiple, (h, w), spec.max_aspect)
    raise MotionComicError(f"unknown frame rule {spec.kind!r}")


def area_of(spec: FrameSpec, resolution: str | int | None) -> int:
    """The pixel area an ``area`` spec generates at for ``resolution`` (see :func:`choose_frame`);
    a short side above :data:`MAX_SIDE` counts as :data:`MAX_SIDE`."""
    if resolution in (None, "", 0):
        return spec.areas[spec.default_resolution]
    key = str(resolution)
    for k in (key, f"{key}p"):
        if k in spec.areas:
            return spec.areas[k]
    if not (key.isascii() and key.isdigit()):
        raise MotionComicError(f"resolution {key[:20]!r} is unknown; choose one of {', '.join(spec.areas)} "
                               "or a short side in pixels")
    digits = key.lstrip("0") or "0"  # clamped to MAX_SIDE: the area, and area_frame's work, stay bounded
    short = MAX_SIDE if len(digits) > len(str(MAX_SIDE)) else min(int(digits), MAX_SIDE)
    if short < spec.multiple:
        raise MotionComicError(f"resolution {short} is below the smallest frame side {spec.multiple}; "
                               f"use one of {', '.join(spec.areas)}")
    return round(short * short * 16 / 9)


def area_frame(area: int, multiple: int, source: tuple[int, int], max_aspect: float = 4.0) -> tuple[int, int]:
    """The (height, width), both multiples of ``multiple``, of at most ``area`` pixels that shows
    an image of ``source``'s aspect largest when letterboxed into it: the legal frame of that area
    nearest the image's aspect, padding only what rounding needs (16:9 at 704x1280 -> 704x1280).
    Ties go to the smaller aspect error, then the smaller frame. The aspect is clamped to
    ``1/max_aspect .. max_aspect`` (a 1:10 strip gets a 1:4 frame with borders)."""
    h, w = _check_size(source)
    ratio = max(1 / max_aspect, min(max_aspect, h / w))  # height / width
    m = multiple
    if area < m * m:
        raise MotionComicError(f"an area of {area} pixels holds no frame of {multiple}x{multiple}")

    def score(c: tuple[int, int]):
        fh, fw = c
        shown = min(fw, fh / ratio) * min(fh, fw * ratio)  # content pixels of the letterboxed image
        return (-round(shown, 6), abs(math.log(fh / fw / ratio)), fh * fw)

    def candidates():  # two per frame height, generated (not listed): memory stays constant
        for a in range(1, area // (m * m) + 1):
            widest = area // (a * m * m)  # the widest frame of this height: shows the most
            fitting = min(widest, max(1, round(a / ratio)))  # the same picture with no side border
            yield a * m, widest * m
            yield a * m, fitting * m

    return min(candidates(), key=score)  # the first best, as over a list


def smallest_frame(spec: FrameSpec) -> tuple[int, int]:
    """The smallest legal frame of an ``area``/``aspect_range`` spec (both sides one multiple)."""
    return (spec.multiple, spec.multiple)


# --------------------------------------------------------------------------- tensors
def resize_images(images, size: tuple[int, int]):
    """Resize ``[B,H,W,C]`` float images in 0..1 to ``size`` (antialiased bicubic, clamped)."""
    import torch.nn.functional as F

    if tuple(images.shape[1:3]) == tuple(size):
        return images
    x = images.movedim(-1, 1)
    out = F.interpolate(x.float(), size=size, mode="bicubic", antialias=True, align_corners=False)
    return out.clamp_(0.0, 1.0).movedim(1, -1).to(images.dtype)


def pad_to_frame(content, plan: FramePlan, fill: tuple[float, float, float] = (0.0, 0.0, 0.0)):
    """Place ``content`` (``[B,sh,sw,C]``, already at ``plan.scaled``) into the frame with a border."""
    import torch

    b, _, _, c = content.shape
    fh, fw = plan.frame
    out = torch.empty((b, fh, fw, c), dtype=content.dtype, device=content.device)
    out[...] = torch.tensor(fill[:c], dtype=content.dtype, device=content.device)
    box = plan.content
    out[:, box.y : box.y + box.h, box.x : box.x + box.w, :] = content
    return out


def apply_plan(images, plan: FramePlan, fill: tuple[float, float, float] = (0.0, 0.0, 0.0)):
    """Source images ``[B,h,w,C]`` -> framed images ``[B,fh,fw,C]`` ready for the model."""
    scaled = resize_images(images, plan.scaled)
    if plan.mode == "pad":
        return pad_to_frame(scaled, plan, fill)
    win = plan.window
    return scaled[:, win.y : win.y + win.h, win.x : win.x + win.w, :].contiguous()


def crop_to_content(frames, plan: FramePlan, resize_back: bool = False):
    """Generated frames ``[N,fh,fw,C]`` -> the content only; optionally back at the source scale.

    ``resize_back`` restores the input's size for ``pad``/``stretch``; for ``crop`` it restores the
    source scale of the visible window (the cut-off part cannot come back).
    """
    box = plan.content
    out = frames[:, box.y : box.y + box.h, box.x : box.x + box.w, :]
    if not resize_back:
        return out.contiguous()
    return resize_images(out.contiguous(), restored_size(plan))


def restored_size(plan: FramePlan) -> tuple[int, int]:
    """(height, width) the content is resized back to: the source size for ``pad``/``stretch``,
    the source scale of the visible window for ``crop``."""
    if plan.mode == "crop":
        s = plan.source[0] / plan.scaled[0]
        return max(1, round(plan.frame[0] * s)), max(1, round(plan.frame[1] * s))
    return plan.source
