"""Pose images: the skeleton drawings pose-guided models were trained on.

Two styles, each matching its upstream pixel for pixel on the same keypoints:

- ``"mimicmotion"`` (MimicMotion's ``draw_pose``, what its PoseNet was trained on): drawn on a
  canvas whose short side is 2160 px, then resized (bilinear) to the frame; limb and point
  colours are dimmed by confidence; hands and face drawn at every point (brightness = score);
  the palette is written in OpenCV's BGR order and swapped to RGB at the end.
- ``"dwpose"`` (DWPose's ControlNet annotator, what OpenPose/DWPose ControlNets take): drawn at
  the frame size, full colours, only points above 0.3; no channel swap.

Body limbs are ellipses 4 px wide (on the drawing canvas), joints circles of radius 4; hand
bones 2 px lines in 20 hues, hand joints radius 4, face points radius 3.
"""
from __future__ import annotations

import math
from typing import Iterable, Iterator

import cv2
import numpy as np

from ..errors import MotionComicError
from .keypoints import BODY, FACE, LEFT_HAND, RIGHT_HAND, VISIBLE, Poses

STYLES = ("mimicmotion", "dwpose")
EPS = 0.01
STICK = 4
REF_SHORT_SIDE = 2160  # MimicMotion's drawing canvas short side

# OpenPose limbs (1-based pairs as in OpenPose) and the 18-colour palette
LIMBS = [(2, 3), (2, 6), (3, 4), (4, 5), (6, 7), (7, 8), (2, 9), (9, 10), (10, 11), (2, 12), (12, 13),
         (13, 14), (2, 1), (1, 15), (15, 17), (1, 16), (16, 18)]
COLORS = [(255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
          (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
          (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85)]
HAND_EDGES = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10), (10, 11),
              (11, 12), (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20)]


def _hue(h: float) -> np.ndarray:
    """HSV (h, 1, 1) -> RGB floats 0..1 (matplotlib's hsv_to_rgb for full saturation and value)."""
    i = int(h * 6.0)
    f = h * 6.0 - i
    return np.array([(1, f, 0), (1 - f, 1, 0), (0, 1, f), (0, 1 - f, 1), (f, 0, 1), (1, 0, 1 - f)][i % 6], np.float64)


#: ``(canvas * 0.6).astype(uint8)`` of the upstream drawings as a lookup table (same values,
#: without a float64 copy of the 2160-px canvas)
_DIM = (np.arange(256) * 0.6).astype(np.uint8)

HAND_HUES = [_hue(i / float(len(HAND_EDGES))) for i in range(len(HAND_EDGES))]


def _scaled(color, alpha: float) -> list[int]:
    return [int(c * alpha) for c in color]


def _draw_body(canvas: np.ndarray, pts: np.ndarray, sc: np.ndarray, dim: bool) -> np.ndarray:
    h, w = canvas.shape[:2]
    for i, (a, b) in enumerate(LIMBS):
        ca, cb = sc[a - 1], sc[b - 1]
        if (ca < VISIBLE or cb < VISIBLE) if dim else (ca <= VISIBLE or cb <= VISIBLE):
            continue
        ys = np.array([pts[a - 1, 0], pts[b - 1, 0]]) * float(w)
        xs = np.array([pts[a - 1, 1], pts[b - 1, 1]]) * float(h)
        length = ((xs[0] - xs[1]) ** 2 + (ys[0] - ys[1]) ** 2) ** 0.5
        angle = math.degrees(math.atan2(xs[0] - xs[1], ys[0] - ys[1]))
        poly = cv2.ellipse2Poly((int(np.mean(ys)), int(np.mean(xs))), (int(length / 2), STICK), int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, poly, _scaled(COLORS[i], ca * cb) if dim else COLORS[i])
    canvas = cv2.LUT(canvas, _DIM)
    for i in range(18):
        if sc[i] <= VISIBLE:
            continue
        x, y = int(pts[i, 0] * w), int(pts[i, 1] * h)
        cv2.circle(canvas, (x, y), 4, _scaled(COLORS[i], sc[i]) if dim else COLORS[i], thickness=-1)
    return canvas


def _draw_hand(canvas: np.ndarray, pts: np.ndarray, sc: np.ndarray, dim: bool) -> None:
    h, w = canvas.shape[:2]
    ip = [(int(x * w), int(y * h)) for x, y in pts]
    for ie, (a, b) in enumerate(HAND_EDGES):
        (x1, y1), (x2, y2) = ip[a], ip[b]
        if x1 > EPS and y1 > EPS and x2 > EPS and y2 > EPS:
            color = HAND_HUES[ie] * (int(sc[a] * sc[b] * 255) if dim else 255)
            cv2.line(canvas, (x1, y1), (x2, y2), color, thickness=2)
    for i, (x, y) in enumerate(ip):
        if x > EPS and y > EPS:
            cv2.circle(canvas, (x, y), 4, (0, 0, int(sc[i] * 255) if dim else 255), thickness=-1)


def _draw_face(canvas: np.ndarray, pts: np.ndarray, sc: np.ndarray, dim: bool) -> None:
    h, w = canvas.shape[:2]
    for (x, y), s in zip(pts, sc):
        x, y = int(x * w), int(y * h)
        if x > EPS and y > EPS:
            c = int(s * 255) if dim else 255
            cv2.circle(canvas, (x, y), 3, (c, c, c), thickness=-1)


def draw_frame(points: np.ndarray, scores: np.ndarray, size: tuple[int, int], style: str = "mimicmotion",
               parts: tuple[str, ...] = ("body", "hands", "face")) -> np.ndarray:
    """One pose image, RGB uint8 ``[H, W, 3]`` of ``size`` (height, width).

    ``points`` ``[134, 2]`` are pixel coordinates in an image of ``size``; ``scores`` ``[134]``.
    """
    if style not in STYLES:
        raise MotionComicError(f"pose style {style!r} is unknown; use one of {', '.join(STYLES)}")
    H, W = size
    norm = points.astype(np.float64) / np.array([float(W), float(H)])
    sc = scores.astype(np.float64)
    dim = style == "mimicmotion"
    if not dim:  # DWPose's annotator moves unseen points off the canvas
        norm = np.where((sc > VISIBLE)[:, None], norm, -1.0)
    sr = (REF_SHORT_SIDE / min(H, W) if min(H, W) != REF_SHORT_SIDE else 1) if dim else 1
    canvas = np.zeros((int(H * sr), int(W * sr), 3), np.uint8)
    if "body" in parts:
        canvas = _draw_body(canvas, norm[BODY], sc[BODY], dim)
    if "hands" in parts:
        for hand in (LEFT_HAND, RIGHT_HAND):
            _draw_hand(canvas, norm[hand], sc[hand], dim)
    if "face" in parts:
        _draw_face(canvas, norm[FACE], sc[FACE], dim)
    if not dim:
        return canvas
    return cv2.cvtColor(cv2.resize(canvas, (W, H)), cv2.COLOR_BGR2RGB)


def iter_render(poses: Poses, style: str = "mimicmotion", indices: Iterable[int] | None = None,
                parts: tuple[str, ...] = ("body", "hands", "face")) -> Iterator[np.ndarray]:
    """Pose images one frame at a time (uint8 RGB at ``poses.size``), for streaming consumers."""
    for i in (range(len(poses)) if indices is None else indices):
        yield draw_frame(poses.points[i], poses.scores[i], poses.size, style, parts)


def render_poses(poses: Poses, style: str = "mimicmotion", indices: Iterable[int] | None = None,
                 parts: tuple[str, ...] = ("body", "hands", "face")):
    """Pose images as a ComfyUI IMAGE: float32 torch ``[N, H, W, 3]`` in 0..1 at ``poses.size``.

    ``indices`` selects frames (an engine can render one tile at a time); each frame is written
    into the preallocated output, so only one drawing canvas exists at a time. Reports progress
    and honours cancel per frame when there are more than 8.
    """
    import torch

    from .. import host

    from ..media.video import check_fits

    idx = list(range(len(poses)) if indices is None else indices)
    h, w = poses.size
    check_fits(len(idx), w, h, "the pose images", advice="Use a shorter driving clip (a frame cap or every_nth "
               "on Load Video) or a smaller reference image.")
    out = torch.empty((len(idx), h, w, 3), dtype=torch.float32)
    progress = host.Progress(len(idx), "pose images") if len(idx) > 8 else None
    for k, img in enumerate(iter_render(poses, style, idx, parts)):
        out[k] = torch.from_numpy(img).float().div_(255.0)
        if progress is not None:
            progress.step()
    return out
