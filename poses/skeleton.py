"""The kinematic tree of the 134-point layout and anime-aware body proportions.

Body: 17 bones rooted at the neck (OpenPose order). Feet, face and hands are *groups*: rigid,
uniformly scaled point sets hanging from an anchor joint (ankle, nose, wrist) — their detected
proportions are too noisy for per-bone lengths.

Proportions: bone lengths in head heights for a 2.5-head chibi and a 7-head adult; a character
with ``n`` heads is the linear blend (clamped to 2..8.5). :func:`fit_heads` finds the head
height and head count that explain the bones that were seen, so the unseen ones can be
estimated (an upper-body reference still gets legs of a plausible length).
"""
from __future__ import annotations

import numpy as np

from .keypoints import (FACE, FEET, LEFT_HAND, L_ANKLE, L_EAR, L_ELBOW, L_EYE, L_HIP, L_KNEE, L_SHOULDER, L_WRIST,
                        NECK, NOSE, RIGHT_HAND, R_ANKLE, R_EAR, R_ELBOW, R_EYE, R_HIP, R_KNEE, R_SHOULDER, R_WRIST)

ROOT = NECK
#: (parent, child), parents before children.
BONES: tuple[tuple[int, int], ...] = (
    (NECK, R_SHOULDER), (R_SHOULDER, R_ELBOW), (R_ELBOW, R_WRIST),
    (NECK, L_SHOULDER), (L_SHOULDER, L_ELBOW), (L_ELBOW, L_WRIST),
    (NECK, R_HIP), (R_HIP, R_KNEE), (R_KNEE, R_ANKLE),
    (NECK, L_HIP), (L_HIP, L_KNEE), (L_KNEE, L_ANKLE),
    (NECK, NOSE), (NOSE, R_EYE), (R_EYE, R_EAR), (NOSE, L_EYE), (L_EYE, L_EAR),
)
BONE_NAMES = ("r_shoulder", "r_upper_arm", "r_forearm", "l_shoulder", "l_upper_arm", "l_forearm",
              "r_torso", "r_thigh", "r_shin", "l_torso", "l_thigh", "l_shin",
              "head", "r_eye", "r_ear", "l_eye", "l_ear")
#: Mirror bone of each bone (left <-> right).
MIRROR = (3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8, 12, 15, 16, 13, 14)
#: group name -> (anchor joint, slice of points, bone whose length ratio scales it when unseen)
GROUPS: dict[str, tuple[int, slice, int]] = {
    "face": (NOSE, FACE, 12),
    "left_hand": (L_WRIST, LEFT_HAND, 5),
    "right_hand": (R_WRIST, RIGHT_HAND, 2),
    "left_foot": (L_ANKLE, slice(FEET.start, FEET.start + 3), 11),
    "right_foot": (R_ANKLE, slice(FEET.start + 3, FEET.stop), 8),
}
#: left/right point pairs swapped when a detector confuses the sides (arms+hands, legs+feet)
SIDE_SWAPS = {
    "arms": ([R_SHOULDER, R_ELBOW, R_WRIST, *range(RIGHT_HAND.start, RIGHT_HAND.stop)],
             [L_SHOULDER, L_ELBOW, L_WRIST, *range(LEFT_HAND.start, LEFT_HAND.stop)]),
    "legs": ([R_HIP, R_KNEE, R_ANKLE, *range(FEET.start + 3, FEET.stop)],
             [L_HIP, L_KNEE, L_ANKLE, *range(FEET.start, FEET.start + 3)]),
}

# bone lengths in head heights (2-D, front view), same order as BONES
CHIBI = np.array([0.35, 0.35, 0.3, 0.35, 0.35, 0.3, 0.62, 0.4, 0.35, 0.62, 0.4, 0.35, 0.38, 0.2, 0.3, 0.2, 0.3])
ADULT = np.array([0.85, 1.4, 1.2, 0.85, 1.4, 1.2, 2.35, 1.75, 1.65, 2.35, 1.75, 1.65, 0.8, 0.2, 0.3, 0.2, 0.3])
CHIBI_HEADS, ADULT_HEADS = 2.5, 7.0
HEADS_RANGE = (2.0, 8.5)
#: unit directions (x right, y down) for bones never seen: arms hanging, legs straight, head up
REST_DIRECTIONS = np.array([
    [-1, 0.15], [-0.2, 1], [-0.1, 1], [1, 0.15], [0.2, 1], [0.1, 1],
    [-0.2, 1], [0, 1], [0, 1], [0.2, 1], [0, 1], [0, 1],
    [0, -1], [-0.8, -0.6], [-1, 0.2], [0.8, -0.6], [1, 0.2]], np.float64)
REST_DIRECTIONS /= np.linalg.norm(REST_DIRECTIONS, axis=1, keepdims=True)


def proportions(heads: float) -> np.ndarray:
    """Bone lengths in head heights for a character ``heads`` heads tall."""
    h = float(np.clip(heads, *HEADS_RANGE))
    t = (h - CHIBI_HEADS) / (ADULT_HEADS - CHIBI_HEADS)
    return np.maximum(CHIBI + t * (ADULT - CHIBI), 0.05)


def fit_heads(lengths: np.ndarray, known: np.ndarray, head_height: float | None = None,
              prior: float = 5.0) -> tuple[float, float]:
    """(head height in px, heads tall) that best explain the ``known`` bone ``lengths``:
    least squares on log lengths; ``head_height`` (measured on the face, if any) and ``prior``
    heads are soft constraints that matter when few bones are seen."""
    idx = np.flatnonzero(known & (lengths > 0))
    grid = np.linspace(*HEADS_RANGE, 131)
    best = (np.inf, prior, head_height or 1.0)
    logs = np.log(lengths[idx])
    for n in grid:
        t = np.log(proportions(n)[idx])
        # closed-form log head height with the face measurement as one more (weight-1) observation
        terms = list(logs - t) + ([np.log(head_height)] if head_height else [])
        lh = float(np.mean(terms)) if terms else 0.0
        err = float(np.sum((logs - t - lh) ** 2)) + 0.02 * ((n - prior) / prior) ** 2
        if head_height:
            err += (lh - np.log(head_height)) ** 2
        if err < best[0]:
            best = (err, n, float(np.exp(lh)))
    return best[2], best[1]


def bone_vectors(points: np.ndarray) -> np.ndarray:
    """``[..., 134, 2]`` -> ``[..., 17, 2]`` child minus parent."""
    par = [p for p, _ in BONES]
    chi = [c for _, c in BONES]
    return points[..., chi, :] - points[..., par, :]


def forward(root: np.ndarray, directions: np.ndarray, lengths: np.ndarray, out: np.ndarray) -> None:
    """Place the 18 body joints: ``root`` ``[N,2]``, unit ``directions`` ``[N,17,2]``, ``lengths``
    ``[N,17]`` (or ``[17]``); writes ``out[:, :18]`` in place."""
    out[:, ROOT] = root
    lengths = np.broadcast_to(lengths, directions.shape[:2])
    for b, (p, c) in enumerate(BONES):
        out[:, c] = out[:, p] + directions[:, b] * lengths[:, b, None]
