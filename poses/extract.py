"""DWPose keypoints for a reference image and for every frame of a driving video (streamed).

Two ways through a video (``mode``):

- ``"every_frame"``: the person detector runs on every frame (what MimicMotion's preprocessing does).
- ``"track"``: the detector runs on key frames (every ``detect_every`` frames, and whenever the
  tracked person is lost); in between, the pose model's crop comes from the previous frame's
  keypoints. The detector (YOLOX-L at 640x640) costs several pose-model runs, so this is faster.

One person per frame: the largest detected box on the first key frame, then the box that
overlaps the previous one most. Frames without a person keep the previous pose (the first found
pose at the start), are flagged in ``Poses.found`` and listed in a warning. Frames are consumed
one at a time, so memory does not grow with the clip length (only the keypoints are kept).
"""
from __future__ import annotations

import logging
from typing import Iterable, Iterator

import numpy as np

from .. import host
from ..errors import MotionComicError
from ..media.video import to_uint8_frame
from . import rtmpose, yolox
from .files import DWPoseModels
from .keypoints import BODY, NUM_POINTS, VISIBLE, Poses, format_frames, from_wholebody

log = logging.getLogger(__name__)

MODES = ("track", "every_frame")
#: A pose counts as a person when at least this many of the 18 body points are seen.
MIN_BODY_POINTS = 4
#: The crop box from the previous keypoints is their extent grown by this factor (the pose
#: model adds its own 1.25 padding on top), so fast limbs stay inside.
TRACK_GROW = 1.2


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1 = np.maximum(a[:, 0], b[0])
    y1 = np.maximum(a[:, 1], b[1])
    x2 = np.minimum(a[:, 2], b[2])
    y2 = np.minimum(a[:, 3], b[3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda r: (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-6)


def choose_box(boxes: np.ndarray, previous: np.ndarray | None) -> np.ndarray | None:
    """The tracked person's box: most overlap with ``previous``, else the largest."""
    if not len(boxes):
        return None
    if previous is not None:
        iou = _iou(boxes, previous)
        if iou.max() > 0.1:
            return boxes[int(iou.argmax())]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return boxes[int(area.argmax())]


def box_from_keypoints(points: np.ndarray, scores: np.ndarray, size: tuple[int, int],
                       grow: float = TRACK_GROW) -> np.ndarray | None:
    """xyxy box around the seen keypoints, grown by ``grow`` and clipped to the image."""
    seen = points[scores > VISIBLE]
    if len(seen) < 2:
        return None
    lo, hi = seen.min(0), seen.max(0)
    c, half = (lo + hi) / 2, np.maximum((hi - lo) / 2 * grow, 8.0)
    h, w = size
    box = np.array([c[0] - half[0], c[1] - half[1], c[0] + half[0], c[1] + half[1]], np.float32)
    return np.clip(box, 0, [w, h, w, h]).astype(np.float32)


def is_person(scores: np.ndarray) -> bool:
    return int((scores[BODY] > VISIBLE).sum()) >= MIN_BODY_POINTS


def estimate_in_box(models: DWPoseModels, image: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """134 keypoints (our layout) and scores of the person in ``box`` of an RGB uint8 image."""
    kp, sc = rtmpose.estimate(models.run_pose, image, box, models.pose_size)
    return from_wholebody(kp, sc)


def detect(models: DWPoseModels, image: np.ndarray) -> np.ndarray:
    boxes, _ = yolox.detect_people(models.run_detector, image, models.det_size)
    return boxes


def extract_image(models: DWPoseModels, image) -> Poses:
    """Keypoints of the person in one image (``[H,W,3]`` uint8, or float 0..1; numpy or torch).

    When the detector finds no one (common for stylised characters), the whole image is given to
    the pose model, as DWPose does. ``found`` is False when that finds no person either.
    """
    img = to_uint8_frame(image)
    size = img.shape[:2]
    box = choose_box(detect(models, img), None)
    if box is None:
        box = np.array([0, 0, size[1], size[0]], np.float32)
    pts, sc = estimate_in_box(models, img, box)
    found = is_person(sc)
    if not found:
        log.warning("no person found in the %dx%d reference image", size[1], size[0])
    return Poses(pts[None], sc[None], size, np.array([found]))


class _Tracker:
    def __init__(self, models: DWPoseModels, mode: str, detect_every: int):
        if mode not in MODES:
            raise MotionComicError(f"pose extraction mode {mode!r} is unknown; use one of {', '.join(MODES)}")
        if detect_every < 1:
            raise MotionComicError(f"detect_every must be at least 1, got {detect_every}")
        self.models, self.mode, self.every = models, mode, detect_every
        self.box: np.ndarray | None = None  # tracked crop for the next frame
        self.last_detection: np.ndarray | None = None
        self.detections = 0

    def _detect(self, img: np.ndarray) -> np.ndarray | None:
        self.detections += 1
        box = choose_box(detect(self.models, img), self.last_detection)
        if box is not None:
            self.last_detection = box
        return box

    def step(self, i: int, img: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        size = img.shape[:2]
        key = self.mode == "every_frame" or self.box is None or i % self.every == 0
        tries = [self._detect(img)] if key else [self.box]
        if key and self.box is not None:
            tries.append(self.box)  # the detector missed: the tracked crop may still hold the person
        for attempt, box in enumerate(tries):
            if box is None:
                continue
            pts, sc = estimate_in_box(self.models, img, box)
            if is_person(sc):
                self.box = box_from_keypoints(pts, sc, size) if self.mode == "track" else None
                return pts, sc
        if not key:  # tracking lost: look again at once
            box = self._detect(img)
            if box is not None:
                pts, sc = estimate_in_box(self.models, img, box)
                if is_person(sc):
                    self.box = box_from_keypoints(pts, sc, size)
                    return pts, sc
        self.box = None
        return None


def extract_frames(models: DWPoseModels, frames: Iterable, *, mode: str = "track", detect_every: int = 8,
                   total: int | None = None, fps: float | None = None) -> Poses:
    """Keypoints of the tracked person in every frame (frames are read one by one).

    ``frames``: ``[H,W,3]`` uint8 or float 0..1 arrays/tensors (a ComfyUI IMAGE batch iterates
    as such). ``total`` sizes the progress bar. Raises :class:`MotionComicError` when no frame
    holds a person or the frames change size.
    """
    tracker = _Tracker(models, mode, detect_every)
    points: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    found: list[bool] = []
    size = None
    progress = host.Progress(total, "poses") if total else None
    for i, frame in enumerate(frames):
        img = to_uint8_frame(frame)
        if size is None:
            size = img.shape[:2]
        elif img.shape[:2] != size:
            raise MotionComicError(f"frame {i} is {img.shape[1]}x{img.shape[0]}, frame 0 {size[1]}x{size[0]}: "
                                   "a driving video must keep one size")
        got = tracker.step(i, img)
        if got is None:
            points.append(points[-1] if points else np.zeros((NUM_POINTS, 2), np.float32))
            scores.append(scores[-1] if scores else np.zeros(NUM_POINTS, np.float32))
        else:
            points.append(got[0])
            scores.append(got[1])
        found.append(got is not None)
        if progress is not None:
            progress.step()
        else:
            host.check_cancel()
    if size is None:
        raise MotionComicError("the driving video has no frames")
    found_arr = np.array(found)
    if not found_arr.any():
        raise MotionComicError(f"no person found in any of the {len(found)} driving frames; use a clip in which "
                               "the whole body (or at least head and shoulders) is visible")
    first = int(np.argmax(found_arr))
    for i in range(first):  # leading frames without a person take the first found pose
        points[i], scores[i] = points[first], scores[first]
    poses = Poses(np.stack(points), np.stack(scores), size, found_arr, fps)
    missing = poses.missing_frames()
    if missing:
        log.warning("no person in %d of %d driving frames (%s); they keep the previous pose",
                    len(missing), len(poses), format_frames(missing))
    log.info("poses: %s, %d detector runs (%s)", poses.describe(), tracker.detections, mode)
    return poses


def iter_image_batch(images) -> Iterator:
    """Frames of a ComfyUI IMAGE ``[B,H,W,C]`` one at a time (views, no copy of the batch)."""
    for i in range(int(images.shape[0])):
        yield images[i]
