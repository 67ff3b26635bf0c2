"""Retargeting: the driver's motion on the reference character's body.

``method="skeleton"`` (ours), per frame:

- **Bone lengths** are the reference's (17 body bones along the tree rooted at the neck), times
  the driver's *zoom* (its size relative to its first frame: walking towards the camera grows
  the character too) and the bone's *foreshortening* (its length now / its full length over the
  clip, at most 1: an arm pointing at the camera stays short). A driver whose bones keep their
  length gives exactly the reference's lengths.
- **Joint angles** (bone directions in the image) are the driver's.
- **Placement**: the neck starts where the reference's neck is and follows the driver's neck
  displacement scaled by the ratio of body sizes (global translation and scale kept).
- **Face, hands, feet** keep the driver's shape, scaled by reference size / driver size of the group.
- **Missing points**: reference bones that were not seen are mirrored from the other side, else
  estimated from the seen ones with head-height proportions (2.5-head chibi ... 7-head adult;
  see :mod:`.skeleton`). Driver bones not seen in a frame keep their last seen direction (the
  next seen one at the start); bones the driver never shows take the reference's pose
  (``fill_missing="reference"``) or are hidden (``"hide"``).
- **Time**: side swaps and one-frame jumps are rejected and points One-Euro filtered *before*
  retargeting (:mod:`.smooth`), so smoothing cannot change bone lengths.

``method="global"`` is MimicMotion's single linear fit (:func:`.align.align_global`);
``method="none"`` only letterboxes the driver's frame into the reference image.
A reference without a person falls back to ``"none"`` with a warning (nothing to fit to).
"""
from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..errors import MotionComicError
from . import align, smooth
from .keypoints import NECK, NOSE, L_HIP, L_SHOULDER, R_HIP, R_SHOULDER, VISIBLE, Poses
from .skeleton import BONES, GROUPS, MIRROR, REST_DIRECTIONS, bone_vectors, fit_heads, forward, proportions

log = logging.getLogger(__name__)

METHODS = ("skeleton", "global", "none")
FILL = ("reference", "hide")
#: bones whose lengths measure body size (shoulders, torso, thighs, shins, head)
SIZE_BONES = [0, 3, 6, 9, 7, 10, 8, 11, 12]
_PAR = np.array([p for p, _ in BONES])
_CHI = np.array([c for _, c in BONES])


@dataclass(frozen=True)
class RetargetOptions:
    method: str = "skeleton"
    smoothing: bool = True
    min_cutoff: float = 1.0  # One-Euro cut-off of still poses (Hz)
    beta: float = 10.0  # One-Euro speed coefficient (per body size per second)
    fill_missing: str = "reference"

    def check(self) -> None:
        if self.method not in METHODS:
            raise MotionComicError(f"retarget method {self.method!r} is unknown; use one of {', '.join(METHODS)}")
        if self.fill_missing not in FILL:
            raise MotionComicError(f"fill_missing {self.fill_missing!r} is unknown; use one of {', '.join(FILL)}")
        if not (self.min_cutoff > 0 and self.beta >= 0):
            raise MotionComicError("min_cutoff must be > 0 and beta >= 0")


@dataclass(frozen=True)
class ReferenceSkeleton:
    """The reference character, completed: ``points [134,2]``, ``scores [134]``, bone ``lengths
    [17]`` (``estimated [17]`` marks guessed ones), head height (px), heads tall, group sizes."""

    points: np.ndarray
    scores: np.ndarray
    lengths: np.ndarray
    estimated: np.ndarray
    head_height: float
    heads: float
    group_sizes: dict


@contextmanager
def _quiet():
    """Silence numpy's all-NaN warnings (unseen bones are NaN by design)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _hold(a: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill ``a [N, ...]`` where ``valid [N, ...]`` is False with the last valid value along axis 0
    (the first valid one before it). Returns (filled, ever_valid [...])."""
    n = len(a)
    shape = valid.shape
    v = valid.reshape(n, -1)
    idx = np.where(v, np.arange(n)[:, None], -1)
    last = np.maximum.accumulate(idx, axis=0)
    first = np.where(v.any(0), v.argmax(0), 0)
    src = np.where(last < 0, first[None, :], last)
    flat = a.reshape(n, v.shape[1], -1)
    out = np.take_along_axis(flat, src[:, :, None], axis=0).reshape(a.shape)
    return out, v.any(0).reshape(shape[1:])


def _head_height(pts: np.ndarray, vis: np.ndarray) -> float | None:
    chin, brows = 24 + 8, [24 + 19, 24 + 24]
    if vis[24:92].sum() >= 20 and vis[chin] and vis[brows].all():
        return float(np.linalg.norm(pts[chin] - pts[brows].mean(0)) * 1.6)
    return None


def reference_skeleton(reference: Poses) -> ReferenceSkeleton:
    """Complete the reference's skeleton (see the module notes). Raises when it has no person."""
    pts, sc = reference.points[0].astype(np.float64), reference.scores[0]
    vis = sc > VISIBLE
    if not reference.found[0] or vis[:18].sum() < 3:
        raise MotionComicError("no person found in the reference image")
    vec = bone_vectors(pts)
    lengths = np.linalg.norm(vec, axis=1)
    known = vis[_PAR] & vis[_CHI] & (lengths > 0)
    mirrored = ~known & known[list(MIRROR)]
    lengths = np.where(mirrored, lengths[list(MIRROR)], lengths)
    known2 = known | mirrored
    head, heads = fit_heads(lengths, known2, _head_height(pts, vis))
    lengths = np.where(known2, lengths, head * proportions(heads))
    out = pts.copy()
    scores = sc.astype(np.float32).copy()
    if not vis[NECK]:  # place the root from whatever is seen
        if vis[[R_SHOULDER, L_SHOULDER]].all():
            out[NECK] = pts[[R_SHOULDER, L_SHOULDER]].mean(0)
        elif vis[NOSE]:
            out[NECK] = pts[NOSE] + [0, lengths[12]]
        elif vis[[R_HIP, L_HIP]].any():
            out[NECK] = pts[[R_HIP, L_HIP]][vis[[R_HIP, L_HIP]]].mean(0) - [0, lengths[6]]
        scores[NECK] = 0.5
    for b, (p, c) in enumerate(BONES):
        if not vis[c]:
            out[c] = out[p] + REST_DIRECTIONS[b] * lengths[b]
            scores[c] = 0.5
    groups = {}
    for name, (anchor, sl, _bone) in GROUPS.items():
        gv = vis[sl] & vis[anchor]
        if gv.mean() >= 0.5:
            groups[name] = float(np.sqrt(np.mean(np.sum((pts[sl][gv] - pts[anchor]) ** 2, 1))))
    log.info("reference skeleton: %.1f heads tall, head %.0f px, estimated bones: %s", heads, head,
             ", ".join(str(i) for i in np.flatnonzero(~known2)) or "none")
    return ReferenceSkeleton(out.astype(np.float32), scores, lengths, ~known2, head, heads, groups)


def _body_size(points: np.ndarray, vis: np.ndarray) -> float:
    with _quiet():
        hips = np.where((vis[:, R_HIP] & vis[:, L_HIP])[:, None], (points[:, R_HIP] + points[:, L_HIP]) / 2, np.nan)
        torso = np.linalg.norm(np.where(vis[:, NECK, None], points[:, NECK], np.nan) - hips, axis=1)
        sh = np.linalg.norm(np.where((vis[:, R_SHOULDER] & vis[:, L_SHOULDER])[:, None],
                                     points[:, R_SHOULDER] - points[:, L_SHOULDER], np.nan), axis=1)
        for v, k in ((torso, 1.0), (sh, 1.5)):
            if np.isfinite(v).any() and np.nanmedian(v) > 0:
                return float(np.nanmedian(v) * k)
    ext = np.ptp(points.reshape(-1, 2), axis=0)
    return float(max(ext.max() / 3, 1.0))


def retarget(reference: Poses, driver: Poses, options: RetargetOptions | None = None) -> Poses:
    """Driving poses on the reference character, in the reference's pixels (``reference.size``).

    ``reference``: one frame (the character image); ``driver``: the driving clip, any size.
    """
    opt = options or RetargetOptions()
    opt.check()
    if len(reference) != 1:
        raise MotionComicError(f"the reference must be one image's poses, got {len(reference)} frames")
    if opt.method == "none":
        return align.fit_into(driver, reference.size)
    if opt.method == "global":
        try:
            return align.align_global(reference, driver)
        except MotionComicError as exc:
            log.warning("%s; the driving poses were only letterboxed into the reference frame", exc)
            return align.fit_into(driver, reference.size)
    try:
        ref = reference_skeleton(reference)
    except MotionComicError:
        log.warning("no person found in the reference image: the driving poses were only letterboxed into its "
                    "frame (proportions not transferred). Use a reference showing the character's body.")
        return align.fit_into(driver, reference.size)
    return _retarget_skeleton(ref, driver, opt, reference.size)


def _retarget_skeleton(ref: ReferenceSkeleton, driver: Poses, opt: RetargetOptions,
                       size: tuple[int, int]) -> Poses:
    n = len(driver)
    vis0 = (driver.scores > VISIBLE) & driver.found[:, None]
    size_px = _body_size(driver.points, vis0)
    fps = driver.fps or 24.0
    pts, raw, sc = smooth.clean(driver.points, np.where(vis0, driver.scores, 0.0), size_px, fps,
                                min_cutoff=opt.min_cutoff, beta=opt.beta, smooth=opt.smoothing)
    vis = sc > VISIBLE
    with _quiet():
        vec = bone_vectors(pts)
        bvis = vis[:, _PAR] & vis[:, _CHI]
        # lengths (zoom, foreshortening) from the unfiltered points, filtered as ratios below:
        # filtering points would shorten fast-turning bones
        length = np.where(bvis, np.linalg.norm(bone_vectors(raw), axis=2), np.nan)
        length[length <= 0] = np.nan
        zoom_raw = np.nanmedian(length / np.nanmedian(length, 0), axis=1)
        ok = np.isfinite(zoom_raw)
        zoom, _ = _hold(np.where(ok, zoom_raw, 1.0), ok)
        if ok.any():
            t0 = int(np.argmax(ok))
            zoom = zoom / zoom_raw[t0]  # frame 0 of the driver = the reference's size
        else:
            t0 = 0
        lz = length / zoom[:, None]
        full = np.nanpercentile(lz, 90, axis=0)
        fore = np.clip(lz / full, 0.0, 1.0)
    seen = np.isfinite(fore)
    fore, _ = _hold(np.where(seen, fore, 1.0), seen)
    if opt.smoothing:
        fore = np.clip(smooth.filter_series(fore, fps, min_cutoff=opt.min_cutoff, beta=opt.beta * 2), 0, 1)
        zoom = smooth.filter_series(zoom[:, None], fps, min_cutoff=opt.min_cutoff, beta=opt.beta * 2)[:, 0]
    vlen = np.linalg.norm(vec, axis=2)
    seen_dir = bvis & (vlen > 0)
    unit = np.where(seen_dir[..., None], vec / np.where(seen_dir, vlen, 1.0)[..., None], 0.0)
    unit, ever = _hold(unit, np.repeat(seen_dir[..., None], 2, -1))
    ever = ever[:, 0]
    ref_dirs = bone_vectors(ref.points.astype(np.float64))
    ref_dirs /= np.maximum(np.linalg.norm(ref_dirs, axis=1, keepdims=True), 1e-9)
    unit[:, ~ever] = ref_dirs[~ever]
    fore[:, ~ever] = 1.0
    # placement: neck displacement scaled by the ratio of body sizes
    common = [b for b in SIZE_BONES if np.isfinite(full[b])]
    scale = float(ref.lengths[common].sum() / full[common].sum()) if common else 1.0
    root, root_ever = _hold(pts[:, NECK], np.repeat(vis[:, NECK, None], 2, -1))
    if not root_ever.all():  # no neck ever: follow the first bone end that is seen
        root = np.zeros((n, 2))
    out = np.zeros((n, pts.shape[1], 2))
    forward(ref.points[NECK] + scale * (root - root[t0]), unit, ref.lengths[None] * zoom[:, None] * fore, out)
    held_sc, sc_ever = _hold(sc, vis)
    out_sc = np.where(sc_ever[None], held_sc, ref.scores[None] if opt.fill_missing == "reference" else 0.0)
    _place_groups(ref, pts, vis, zoom, full, scale, out, out_sc, opt)
    return Poses(out.astype(np.float32), out_sc.astype(np.float32), size, driver.found, driver.fps)


def _place_groups(ref: ReferenceSkeleton, pts: np.ndarray, vis: np.ndarray, zoom: np.ndarray, full: np.ndarray,
                  scale: float, out: np.ndarray, out_sc: np.ndarray, opt: RetargetOptions) -> None:
    """Face, hands and feet: the driver's shape around its anchor, scaled to the reference's size."""
    for name, (anchor, sl, bone) in GROUPS.items():
        rel = pts[:, sl] - pts[:, anchor, None]
        rvis = vis[:, sl] & vis[:, anchor, None]
        with _quiet():
            rms = np.sqrt(np.nanmean(np.where(rvis, np.sum(rel ** 2, 2), np.nan), 1)) / zoom
            good = rvis.mean(1) >= 0.5
            drv_size = np.nanpercentile(rms[good], 75) if good.any() else np.nan
        if name in ref.group_sizes and np.isfinite(drv_size) and drv_size > 0:
            g = ref.group_sizes[name] / drv_size
        elif np.isfinite(full[bone]) and full[bone] > 0:
            g = ref.lengths[bone] / full[bone]
        else:
            g = scale
        held, ever = _hold(rel, np.repeat(rvis[..., None], 2, -1))
        ever = ever[:, 0]
        ref_rel = (ref.points[sl] - ref.points[anchor]).astype(np.float64) / max(g, 1e-9)
        held[:, ~ever] = ref_rel[~ever]
        out[:, sl] = out[:, anchor, None] + held * (g * zoom)[:, None, None]
        if opt.fill_missing == "hide":
            out_sc[:, sl][:, ~ever] = 0.0
