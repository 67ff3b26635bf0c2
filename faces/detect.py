"""Face detectors: SCRFD/RetinaFace ONNX (our own decoding), YOLO face ONNX, OpenCV cascades.

Every detector takes an RGB ``uint8`` image ``[H,W,3]`` and returns :class:`Face` objects in that
image's pixel coordinates. ``calls`` counts detector invocations (the benchmark reports it).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import models as kinds
from .runtime import open_model
from ..errors import MotionComicError

log = logging.getLogger(__name__)


@dataclass
class Face:
    """One face: ``box`` [x1,y1,x2,y2] float pixels, ``score`` 0..1, ``landmarks`` [5,2] or None
    (eyes, nose, mouth corners — None for anime detectors without landmarks)."""

    box: np.ndarray
    score: float
    landmarks: np.ndarray | None = None
    track: int = -1

    @property
    def size(self) -> float:
        return float(max(self.box[2] - self.box[0], self.box[3] - self.box[1]))

    @property
    def area(self) -> float:
        return float(max(self.box[2] - self.box[0], 0) * max(self.box[3] - self.box[1], 0))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two [x1,y1,x2,y2] boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def nms(boxes: np.ndarray, scores: np.ndarray, thresh: float = 0.4) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best first (boxes [N,4] x1,y1,x2,y2)."""
    boxes = np.asarray(boxes, np.float64)
    x1, y1, x2, y2 = boxes.T
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep: list[int] = []
    while order.size:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        w = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = w * h
        union = areas[i] + areas[rest] - inter
        ov = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
        order = rest[ov <= thresh]
    return keep


@dataclass
class Detector:
    """Base class: ``detect(rgb_uint8) -> list[Face]``."""

    path: Path
    threshold: float = 0.5
    calls: int = field(default=0, init=False)
    has_landmarks: bool = field(default=False, init=False)
    kind: str = field(default="", init=False)

    @property
    def name(self) -> str:
        return self.path.name

    def detect(self, image: np.ndarray) -> list[Face]:
        self.calls += 1
        return self._detect(image)

    def _detect(self, image: np.ndarray) -> list[Face]:  # pragma: no cover - abstract
        raise NotImplementedError


def _fit(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Resize keeping aspect to fit ``size`` (w, h); returns the resized image and its scale."""
    import cv2

    h, w = image.shape[:2]
    scale = min(size[0] / w, size[1] / h)
    nw, nh = max(int(round(w * scale)), 1), max(int(round(h * scale)), 1)
    return cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR), scale


class SCRFDDetector(Detector):
    """insightface SCRFD / RetinaFace ONNX layout: per stride a score, a box-distance and (with
    landmarks) a keypoint output; anchor centres at ``(x, y) * stride``; input ``(x-127.5)/128``
    RGB, image resized to fit and placed top-left on a black square."""

    def __init__(self, path: Path, threshold: float = 0.5, det_size: int = 640, preference: str = "auto"):
        super().__init__(Path(path), threshold)
        self.model = open_model(path, preference)
        kinds.expect(self.model, kinds.DETECTOR_SCRFD)
        n = len(self.model.outputs)
        self.fmc = 3 if n in (6, 9) else 5
        self.strides = [8, 16, 32] if self.fmc == 3 else [8, 16, 32, 64, 128]
        self.num_anchors = 2 if self.fmc == 3 else 1
        self.has_landmarks = n in (9, 15)
        inp = self.model.inputs[0]
        self.size = (inp.dim(3) or det_size, inp.dim(2) or det_size)
        self.kind = "scrfd"

    def _detect(self, image: np.ndarray) -> list[Face]:
        import cv2

        # insightface's sizing (int truncation, scale from the height) so boxes match it exactly
        h, w = image.shape[:2]
        if h / w > self.size[1] / self.size[0]:
            nh, nw = self.size[1], max(int(self.size[1] / (h / w)), 1)
        else:
            nw, nh = self.size[0], max(int(self.size[0] * (h / w)), 1)
        resized = cv2.resize(image, (nw, nh))
        scale = nh / h
        canvas = np.zeros((self.size[1], self.size[0], 3), np.float32)
        canvas[: resized.shape[0], : resized.shape[1]] = resized
        blob = ((canvas - 127.5) / 128.0).transpose(2, 0, 1)[None]
        outs = self.model.run({self.model.inputs[0].name: blob})
        boxes, scores, kpss = [], [], []
        for idx, stride in enumerate(self.strides):
            sc = outs[idx].reshape(-1)
            bb = outs[idx + self.fmc].reshape(-1, 4) * stride
            fh, fw = self.size[1] // stride, self.size[0] // stride
            ys, xs = np.mgrid[:fh, :fw]
            centers = np.stack([xs, ys], -1).reshape(-1, 2).astype(np.float32) * stride
            centers = np.repeat(centers, self.num_anchors, axis=0)
            keep = np.where(sc >= self.threshold)[0]
            if not len(keep):
                continue
            c = centers[keep]
            d = bb[keep]
            boxes.append(np.stack([c[:, 0] - d[:, 0], c[:, 1] - d[:, 1], c[:, 0] + d[:, 2], c[:, 1] + d[:, 3]], -1))
            scores.append(sc[keep])
            if self.has_landmarks:
                k = outs[idx + 2 * self.fmc].reshape(-1, 10)[keep] * stride
                kpss.append(k.reshape(-1, 5, 2) + c[:, None, :])
        if not boxes:
            return []
        boxes_a = np.concatenate(boxes) / scale
        scores_a = np.concatenate(scores)
        kps_a = np.concatenate(kpss) / scale if kpss else None
        return [Face(boxes_a[i].astype(np.float32), float(scores_a[i]),
                     None if kps_a is None else kps_a[i].astype(np.float32))
                for i in nms(boxes_a, scores_a, 0.4)]


class YoloFaceDetector(Detector):
    """YOLOv8-style face ONNX: output ``[1, 4+classes(+5*3 landmarks), N]`` rows cx,cy,w,h,score…;
    input RGB 0..1, letterboxed (centred, grey 114) to the model's square size."""

    def __init__(self, path: Path, threshold: float = 0.5, det_size: int = 640, preference: str = "auto"):
        super().__init__(Path(path), threshold)
        self.model = open_model(path, preference)
        kinds.expect(self.model, kinds.DETECTOR_YOLO)
        inp = self.model.inputs[0]
        self.size = (inp.dim(3) or det_size, inp.dim(2) or det_size)
        self.channels = self.model.outputs[0].dim(1)
        self.has_landmarks = self.channels == 20
        self.kind = "yolo"

    def _detect(self, image: np.ndarray) -> list[Face]:
        resized, scale = _fit(image, self.size)
        canvas = np.full((self.size[1], self.size[0], 3), 114, np.float32)
        px = (self.size[0] - resized.shape[1]) // 2
        py = (self.size[1] - resized.shape[0]) // 2
        canvas[py: py + resized.shape[0], px: px + resized.shape[1]] = resized
        blob = (canvas / 255.0).transpose(2, 0, 1)[None].astype(np.float32)
        pred = self.model.run({self.model.inputs[0].name: blob})[0][0].T  # [N, C]
        c = pred.shape[1]
        landmarks = c == 20
        score = pred[:, 4] if (c == 5 or landmarks) else pred[:, 4:].max(axis=1)
        keep = np.where(score >= self.threshold)[0]
        if not len(keep):
            return []
        p = pred[keep]
        cx, cy, w, h = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)
        boxes = (boxes - np.array([px, py, px, py], np.float32)) / scale
        kps = None
        if landmarks:
            kps = (p[:, 5:].reshape(-1, 5, 3)[:, :, :2] - np.array([px, py], np.float32)) / scale
        sc = score[keep]
        return [Face(boxes[i].astype(np.float32), float(sc[i]), None if kps is None else kps[i].astype(np.float32))
                for i in nms(boxes, sc, 0.45)]


class CascadeDetector(Detector):
    """OpenCV cascade (e.g. ``lbpcascade_animeface.xml``): grey + histogram equalisation,
    ``detectMultiScale(1.1, 5, minSize=24)``. No landmarks; score 1."""

    def __init__(self, path: Path, threshold: float = 0.5, min_size: int = 24):
        super().__init__(Path(path), threshold)
        import cv2

        if not hasattr(cv2, "CascadeClassifier"):
            raise MotionComicError(
                f"{self.path.name} needs cv2.CascadeClassifier, which this OpenCV ({cv2.__version__}) "
                "lacks (OpenCV 5's opencv-python dropped it). Install opencv-contrib-python: "
                "`pip uninstall -y opencv-python opencv-python-headless && pip install opencv-contrib-python`."
            )
        try:
            self.cascade = cv2.CascadeClassifier(str(self.path))
            broken = self.cascade.empty()
        except Exception:  # OpenCV raises (cv2.error / SystemError) on malformed XML
            broken = True
        if broken:
            raise MotionComicError(
                f"{self.path} is not a readable OpenCV cascade file (truncated or not a cascade .xml): "
                "download it again (lbpcascade_animeface.xml, by nagadomi)."
            )
        self.min_size = min_size
        self.kind = "cascade"

    def _detect(self, image: np.ndarray) -> list[Face]:
        import cv2

        gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        found = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                              minSize=(self.min_size, self.min_size))
        return [Face(np.array([x, y, x + w, y + h], np.float32), 1.0) for (x, y, w, h) in found]


def load_detector(path: str | Path, threshold: float = 0.5, det_size: int = 640,
                  preference: str = "auto") -> Detector:
    """Open a detector file, told apart by content: ``.xml`` cascade, or an ONNX model whose
    outputs match the SCRFD/RetinaFace or the YOLO layout."""
    path = Path(path)
    if path.suffix.lower() == ".xml":
        return CascadeDetector(path, threshold)
    model = open_model(path, preference)
    kind = kinds.expect(model, kinds.DETECTOR_SCRFD, kinds.DETECTOR_YOLO)
    cls = SCRFDDetector if kind == kinds.DETECTOR_SCRFD else YoloFaceDetector
    return cls(path, threshold, det_size, preference)


def choose_detector(detectors: list[Detector], reference: np.ndarray) -> tuple[Detector, list[Face]]:
    """The first detector (in the given priority order) that finds a face in ``reference``.

    Returns the detector and its faces on the reference, largest first. Raises
    :class:`MotionComicError` listing every detector tried when none finds a face.
    """
    tried = []
    for det in detectors:
        faces = det.detect(reference)
        tried.append(f"{det.name}: {len(faces)}")
        if faces:
            log.info("detector %s finds %d face(s) in the reference", det.name, len(faces))
            return det, sorted(faces, key=lambda f: -f.area)
    raise MotionComicError(
        "No detector finds a face in the reference image (" + "; ".join(tried) + "). Use a reference "
        "with a clear, near-frontal face, lower the detection threshold, or add a detector that suits "
        "the style (anime: lbpcascade_animeface.xml or a YOLO anime-face ONNX in models/facedetection/)."
    )
