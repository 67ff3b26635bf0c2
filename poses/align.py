"""Simple mappings of keypoints between images: MimicMotion's global fit, frame fits, letterbox plans.

- :func:`align_global` is MimicMotion's own pose rescale (``get_video_pose``): one linear fit of
  the driver's body y-coordinates onto the reference's (scale + offset), x scaled by the same
  factor corrected for the two aspect ratios, x offset from the means. It keeps the driver's
  build: a 7-head dancer stays 7 heads on a 2.5-head character, and a dancer walking towards the
  camera stretches the fit for the whole clip.
- :func:`fit_into` letterboxes the driver's frame into another image size (no fitting at all).
- :func:`to_frame` maps keypoints through a :class:`~samplers.framing.FramePlan`, so pose images
  line up with the letterboxed reference the video model sees.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import MotionComicError
from ..samplers.framing import FramePlan
from .keypoints import BODY, VISIBLE, Poses

#: The body points MimicMotion fits on (all but the arms' elbows and wrists).
GLOBAL_FIT_POINTS = [0, 1, 2, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]


def global_fit(reference: Poses, driver: Poses) -> tuple[np.ndarray, np.ndarray]:
    """MimicMotion's (a, b) in normalised coordinates: ``ref_norm = drv_norm * a + b``."""
    rh, rw = reference.size
    dh, dw = driver.size
    ids = [i for i in GLOBAL_FIT_POINTS if reference.found[0] and reference.scores[0, i] > VISIBLE]
    frames = np.flatnonzero(driver.found)
    if not ids or not len(frames):
        raise MotionComicError("the global fit needs a person in the reference image and in at least one driving "
                               f"frame (reference body points seen: {len(ids)}, driving frames with a person: {len(frames)})")
    ref = reference.points[0, ids].astype(np.float64) / [float(rw), float(rh)]
    drv = driver.points[frames][:, ids].astype(np.float64) / [float(dw), float(dh)]
    if len(ids) < 2 or np.ptp(drv[:, :, 1]) == 0:
        raise MotionComicError("the global fit needs at least two body points at different heights")
    ay, by = np.polyfit(drv[:, :, 1].ravel(), np.tile(ref[:, 1], len(drv)), 1)
    ax = ay / (dh / dw / rh * rw)
    bx = np.mean(np.tile(ref[:, 0], len(drv)) - drv[:, :, 0].ravel() * ax)
    return np.array([ax, ay]), np.array([bx, by])


def align_global(reference: Poses, driver: Poses) -> Poses:
    """Driver keypoints moved into the reference image by MimicMotion's global fit (pixels at
    ``reference.size``; scores unchanged)."""
    a, b = global_fit(reference, driver)
    dh, dw = driver.size
    rh, rw = reference.size
    norm = driver.points.astype(np.float64) / [float(dw), float(dh)]
    out = (norm * a + b) * [float(rw), float(rh)]
    return Poses(out.astype(np.float32), driver.scores, reference.size, driver.found, driver.fps)


def _affine(poses: Poses, scale: tuple[float, float], offset: tuple[float, float], size: tuple[int, int]) -> Poses:
    """Pixel-index coordinates through a resize by ``scale`` (x, y; half-pixel centres, as image
    resizing does) and a shift by ``offset``."""
    s = np.array(scale, np.float64)
    pts = (poses.points.astype(np.float64) + 0.5) * s - 0.5 + np.array(offset, np.float64)
    return Poses(pts.astype(np.float32), poses.scores, size, poses.found, poses.fps)


def fit_into(poses: Poses, size: tuple[int, int]) -> Poses:
    """Letterbox the poses' frame into an image of ``size`` (height, width): uniform scale, centred."""
    (h, w), (th, tw) = poses.size, size
    s = min(th / h, tw / w)
    return _affine(poses, (s, s), ((tw - w * s) / 2, (th - h * s) / 2), (int(th), int(tw)))


def to_frame(poses: Poses, plan: FramePlan) -> Poses:
    """Keypoints of the plan's source image -> the model frame (``plan.frame``), for any mode.

    ``poses.size`` must be ``plan.source`` (retargeted poses are in the reference's pixels).
    """
    if tuple(poses.size) != tuple(plan.source):
        raise MotionComicError(
            f"the poses are for a {poses.size[1]}x{poses.size[0]} image but the frame plan is for "
            f"{plan.source[1]}x{plan.source[0]}; retarget the poses onto this reference first")
    (h, w), (sh, sw) = plan.source, plan.scaled
    if plan.mode == "pad":
        off = (plan.content.x, plan.content.y)
    elif plan.mode == "crop":
        off = (-plan.window.x, -plan.window.y)
    else:
        off = (0, 0)
    return _affine(poses, (sw / w, sh / h), off, plan.frame)


def body_height(poses: Poses) -> np.ndarray:
    """Per frame, the vertical extent of the seen body points (px; 0 where fewer than 2)."""
    vis = poses.scores[:, BODY] > VISIBLE
    y = np.where(vis, poses.points[:, BODY, 1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ext = np.nanmax(y, 1) - np.nanmin(y, 1)
    return np.nan_to_num(np.where(vis.sum(1) >= 2, ext, 0.0))
