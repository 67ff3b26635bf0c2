"""Person detection with YOLOX (``yolox_l.onnx``), pre- and post-processing as DWPose does it.

The image is resized to fit the model input (640x640 for ``yolox_l.onnx``) keeping its aspect,
placed top-left on a grey (114) canvas, fed as float 0..255 RGB CHW (no normalisation). The raw
output ``[1, A, 5 + classes]`` holds per-anchor (x, y, log w, log h) offsets on the stride-8/16/32
grids, objectness and class scores; boxes are decoded, scaled back, filtered by score and NMS.
"""
from __future__ import annotations

import cv2
import numpy as np

STRIDES = (8, 16, 32)
NMS_IOU = 0.45
SCORE_MIN = 0.1  # NMS candidates
PERSON_MIN = 0.3  # kept person boxes


def letterbox(image: np.ndarray, input_size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """RGB uint8 ``[H,W,3]`` -> float32 ``[3, h_in, w_in]`` and the resize ratio (DWPose's way)."""
    ih, iw = input_size
    r = min(ih / image.shape[0], iw / image.shape[1])
    nh, nw = int(image.shape[0] * r), int(image.shape[1] * r)
    canvas = np.full((ih, iw, 3), 114, np.uint8)
    canvas[:nh, :nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(canvas.transpose(2, 0, 1), dtype=np.float32), r


def _grids(input_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    grids, strides = [], []
    for s in STRIDES:
        hs, ws = input_size[0] // s, input_size[1] // s
        xv, yv = np.meshgrid(np.arange(ws), np.arange(hs))
        grids.append(np.stack((xv, yv), 2).reshape(-1, 2))
        strides.append(np.full((hs * ws, 1), s))
    return np.concatenate(grids), np.concatenate(strides)


def decode(raw: np.ndarray, input_size: tuple[int, int], ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Raw output ``[A, 5+C]`` (or ``[1, A, 5+C]``) -> person boxes xyxy ``[M,4]`` in source
    pixels and their scores ``[M]`` (objectness x person class), before NMS."""
    pred = np.asarray(raw, np.float32).reshape(-1, raw.shape[-1])
    grid, stride = _grids(input_size)
    if len(grid) != len(pred):
        raise ValueError(f"detector output has {len(pred)} anchors; a {input_size[1]}x{input_size[0]} "
                         f"YOLOX input has {len(grid)}")
    xy = (pred[:, :2] + grid) * stride
    wh = np.exp(pred[:, 2:4]) * stride
    boxes = np.concatenate([xy - wh / 2.0, xy + wh / 2.0], axis=1) / ratio
    scores = pred[:, 4] * pred[:, 5]
    return boxes, scores


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = NMS_IOU) -> list[int]:
    """Greedy NMS with the +1 pixel area convention of DWPose's numpy NMS; indices best first."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep: list[int] = []
    while order.size:
        i = order[0]
        keep.append(int(i))
        w = np.maximum(0.0, np.minimum(x2[i], x2[order[1:]]) - np.maximum(x1[i], x1[order[1:]]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[order[1:]]) - np.maximum(y1[i], y1[order[1:]]) + 1)
        inter = w * h
        ovr = inter / (areas[i] + areas[order[1:]] - inter)
        order = order[np.flatnonzero(ovr <= iou) + 1]
    return keep


def detect_people(run, image: np.ndarray, input_size: tuple[int, int] = (640, 640)) -> tuple[np.ndarray, np.ndarray]:
    """Person boxes xyxy ``[M,4]`` (source pixels) and scores ``[M]``, best first.

    ``run(x)`` maps the float32 ``[1,3,h_in,w_in]`` input to the raw output array.
    """
    x, ratio = letterbox(image, input_size)
    boxes, scores = decode(run(x[None]), input_size, ratio)
    cand = scores > SCORE_MIN
    boxes, scores = boxes[cand], scores[cand]
    if not len(scores):
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    keep = [k for k in nms(boxes, scores) if scores[k] > PERSON_MIN]
    return boxes[keep].astype(np.float32), scores[keep].astype(np.float32)
