"""Whole-body keypoints of one person per frame, in the layout DWPose produces.

134 points per frame, in pixel coordinates of an image of ``size`` (height, width):

=========  =======  ===========================================================
slice      count    what
=========  =======  ===========================================================
0:18       18       body, OpenPose order (0 nose, 1 neck, 2-4 right arm, 5-7 left arm,
                    8-10 right leg, 11-13 left leg, 14/15 eyes, 16/17 ears)
18:24      6        feet (left big toe, small toe, heel, then right)
24:92      68       face (iBUG 68 landmarks)
92:113     21       left hand (wrist, then 4 points per finger thumb..little)
113:134    21       right hand
=========  =======  ===========================================================

The neck is not a model output: DWPose sets it to the shoulders' mean with score 1 when both
shoulders score above 0.3, else 0 (we do the same, so renders match MimicMotion's).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import MotionComicError

BODY = slice(0, 18)
FEET = slice(18, 24)
FACE = slice(24, 92)
LEFT_HAND = slice(92, 113)
RIGHT_HAND = slice(113, 134)
NUM_POINTS = 134
#: Points with a score at or below this count as not seen (DWPose's and MimicMotion's threshold).
VISIBLE = 0.3

# OpenPose body indices
NOSE, NECK, R_SHOULDER, R_ELBOW, R_WRIST, L_SHOULDER, L_ELBOW, L_WRIST = range(8)
R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE, R_EYE, L_EYE, R_EAR, L_EAR = range(8, 18)

#: COCO-WholeBody order of the 133 model outputs -> our 134 (neck inserted at 17, then the 17 COCO
#: body points moved to OpenPose order). ``MMPOSE_TO_OPENPOSE[i]`` = source index of body point i.
_COCO_BODY_TO_OPENPOSE = [0, 17, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3]


@dataclass(frozen=True)
class Poses:
    """Keypoints of ``N`` frames (a reference image is ``N = 1``).

    - ``points``: float32 ``[N, 134, 2]`` pixel (x, y) in an image of ``size``.
    - ``scores``: float32 ``[N, 134]`` confidences 0..1 (``> VISIBLE`` = seen).
    - ``size``: (height, width) of the image the coordinates refer to.
    - ``found``: bool ``[N]``, False where no person was detected (that frame repeats the nearest
      earlier found frame, or the first found one at the start).
    - ``fps``: frame rate of the source video (None for images).

    Arrays are never modified in place by this pack; derive new objects with :meth:`with_points`.
    """

    points: np.ndarray
    scores: np.ndarray
    size: tuple[int, int]
    found: np.ndarray = field(default=None)  # type: ignore[assignment]
    fps: float | None = None

    def __post_init__(self) -> None:
        pts = np.asarray(self.points, dtype=np.float32)
        sc = np.asarray(self.scores, dtype=np.float32)
        if pts.ndim != 3 or pts.shape[1:] != (NUM_POINTS, 2) or sc.shape != pts.shape[:2]:
            raise MotionComicError(
                f"poses need points [N,{NUM_POINTS},2] and scores [N,{NUM_POINTS}]; got {pts.shape} and {sc.shape}")
        found = np.ones(len(pts), bool) if self.found is None else np.asarray(self.found, bool)
        if found.shape != (len(pts),):
            raise MotionComicError(f"found must have one flag per frame ({len(pts)}), got {found.shape}")
        h, w = int(self.size[0]), int(self.size[1])
        if h < 1 or w < 1:
            raise MotionComicError(f"pose image size {w}x{h} is empty")
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "scores", sc)
        object.__setattr__(self, "found", found)
        object.__setattr__(self, "size", (h, w))

    def __len__(self) -> int:
        return len(self.points)

    @property
    def body(self) -> np.ndarray:
        return self.points[:, BODY]

    @property
    def feet(self) -> np.ndarray:
        return self.points[:, FEET]

    @property
    def face(self) -> np.ndarray:
        return self.points[:, FACE]

    @property
    def hands(self) -> np.ndarray:
        """``[N, 2, 21, 2]``: left hand, right hand."""
        return np.stack([self.points[:, LEFT_HAND], self.points[:, RIGHT_HAND]], axis=1)

    @property
    def visible(self) -> np.ndarray:
        return self.scores > VISIBLE

    def frame(self, i: int) -> "Poses":
        return replace(self, points=self.points[i:i + 1], scores=self.scores[i:i + 1], found=self.found[i:i + 1])

    def with_points(self, points: np.ndarray, scores: np.ndarray | None = None,
                    size: tuple[int, int] | None = None) -> "Poses":
        found = self.found if len(points) == len(self) else None
        return replace(self, points=points, scores=self.scores if scores is None else scores,
                       size=self.size if size is None else size, found=found)

    def missing_frames(self) -> list[int]:
        return [int(i) for i in np.flatnonzero(~self.found)]

    def describe(self) -> str:
        miss = self.missing_frames()
        text = f"{len(self)} frame(s) at {self.size[1]}x{self.size[0]}"
        if miss:
            text += f", no person in {len(miss)}: {format_frames(miss)}"
        return text


def format_frames(frames: list[int], limit: int = 12) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"`` (runs collapsed, at most ``limit`` runs shown)."""
    runs: list[list[int]] = []
    for f in frames:
        if runs and f == runs[-1][1] + 1:
            runs[-1][1] = f
        else:
            runs.append([f, f])
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in runs[:limit]]
    if len(runs) > limit:
        parts.append(f"... ({len(runs) - limit} more runs)")
    return ", ".join(parts)


def from_wholebody(keypoints: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """133 COCO-WholeBody points ``[..., 133, 2]`` + scores -> our 134 layout (neck inserted,
    body in OpenPose order), exactly as DWPose's ``Wholebody.__call__`` does."""
    kp = np.asarray(keypoints, np.float32)
    sc = np.asarray(scores, np.float32)
    neck = kp[..., [5, 6], :].mean(axis=-2, keepdims=True)
    neck_score = ((sc[..., 5] > VISIBLE) & (sc[..., 6] > VISIBLE)).astype(np.float32)[..., None]
    kp = np.concatenate([kp[..., :17, :], neck, kp[..., 17:, :]], axis=-2)
    sc = np.concatenate([sc[..., :17], neck_score, sc[..., 17:]], axis=-1)
    order = np.arange(NUM_POINTS)
    order[:18] = _COCO_BODY_TO_OPENPOSE
    return kp[..., order, :], sc[..., order]


def empty(n: int, size: tuple[int, int], fps: float | None = None) -> Poses:
    """``n`` frames with nothing found (all scores 0)."""
    return Poses(np.zeros((n, NUM_POINTS, 2), np.float32), np.zeros((n, NUM_POINTS), np.float32), size,
                 np.zeros(n, bool), fps)


def concat(parts: list[Poses]) -> Poses:
    if not parts:
        raise MotionComicError("no poses to join")
    size = parts[0].size
    if any(p.size != size for p in parts):
        raise MotionComicError("poses of different image sizes cannot be joined; map them to one frame first")
    return Poses(np.concatenate([p.points for p in parts]), np.concatenate([p.scores for p in parts]), size,
                 np.concatenate([p.found for p in parts]), parts[0].fps)
