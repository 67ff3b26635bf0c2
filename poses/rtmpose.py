"""Top-down whole-body keypoints with DWPose's RTMPose model (``dw-ll_ucoco_384.onnx``), SimCC decoding.

A person box is padded by 1.25, widened to the model's aspect (288:384), cut out by an affine
warp (bilinear, black outside), normalised with the ImageNet mean/std (RGB, 0..255) and fed as
``[1,3,384,288]``. The model returns ``simcc_x [1,133,2*288]`` and ``simcc_y [1,133,2*384]``:
one 1-D classification per keypoint and axis at half-pixel resolution; the location is the
argmax / 2 and the score the smaller of the two maxima (<= 0: not found, location -1).
"""
from __future__ import annotations

import cv2
import numpy as np

MEAN = np.array([123.675, 116.28, 103.53], np.float32)
INV_STD = (1.0 / np.array([58.395, 57.12, 57.375])).astype(np.float32)
PADDING = 1.25
SPLIT_RATIO = 2.0


def box_center_scale(box: np.ndarray, padding: float = PADDING) -> tuple[np.ndarray, np.ndarray]:
    x1, y1, x2, y2 = [float(v) for v in box]
    return np.array([x1 + x2, y1 + y2]) * 0.5, np.array([x2 - x1, y2 - y1]) * padding


def fix_aspect(scale: np.ndarray, aspect: float) -> np.ndarray:
    """Grow (w, h) to the aspect ``w/h`` of the model input."""
    w, h = scale
    return np.array([w, w / aspect]) if w > h * aspect else np.array([h * aspect, h])


def warp_matrix(center: np.ndarray, scale: np.ndarray, out_size: tuple[int, int]) -> np.ndarray:
    """2x3 affine taking the box (centre, width ``scale[0]``) to ``out_size`` (w, h), no rotation;
    built from the same three float32 point pairs as mmpose/DWPose so warps agree to the bit."""
    dst_w, dst_h = out_size
    src = np.zeros((3, 2), np.float32)
    dst = np.zeros((3, 2), np.float32)
    src[0] = center
    src[1] = center + np.array([0.0, scale[0] * -0.5])
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = dst[0] + np.array([0.0, dst_w * -0.5])
    for pts in (src, dst):
        d = pts[0] - pts[1]
        pts[2] = pts[1] + np.array([-d[1], d[0]])
    return cv2.getAffineTransform(src, dst)


def crop(image: np.ndarray, box: np.ndarray, input_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RGB uint8 image + xyxy box -> (model input float32 ``[3,h,w]``, centre, scale (w, h)).

    ``input_size`` is (height, width) of the model input.
    """
    h, w = input_size
    center, scale = box_center_scale(box)
    scale = fix_aspect(scale, w / h)
    patch = cv2.warpAffine(image, warp_matrix(center, scale, (w, h)), (int(w), int(h)), flags=cv2.INTER_LINEAR)
    x = (patch.astype(np.float32) - MEAN) * INV_STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)), center, scale


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float = SPLIT_RATIO) -> tuple[np.ndarray, np.ndarray]:
    """``[K, Wx]``, ``[K, Wy]`` (a leading batch of 1 is dropped) -> locations ``[K,2]`` in model
    input pixels and scores ``[K]``."""
    sx = np.asarray(simcc_x).reshape(-1, simcc_x.shape[-1])
    sy = np.asarray(simcc_y).reshape(-1, simcc_y.shape[-1])
    locs = np.stack([np.argmax(sx, 1), np.argmax(sy, 1)], -1).astype(np.float32)
    vals = np.minimum(np.amax(sx, 1), np.amax(sy, 1))
    locs[vals <= 0.0] = -1
    return locs / split_ratio, vals.astype(np.float32)


def to_image(locs: np.ndarray, input_size: tuple[int, int], center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Model-input pixel locations ``[K,2]`` -> source image pixels."""
    size_wh = np.array([input_size[1], input_size[0]], np.float64)
    return (locs / size_wh * scale + center - scale / 2).astype(np.float32)


def estimate(run, image: np.ndarray, box: np.ndarray, input_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints ``[K,2]`` (source pixels) and scores ``[K]`` of the person in ``box``.

    ``run(x)`` maps float32 ``[1,3,h,w]`` to ``(simcc_x, simcc_y)``.
    """
    x, center, scale = crop(image, box, input_size)
    simcc_x, simcc_y = run(x[None])
    locs, scores = decode_simcc(simcc_x, simcc_y)
    return to_image(locs, input_size, center, scale), scores
