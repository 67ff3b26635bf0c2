"""The per-clip face restore: detect + track, swap from the reference, enhance, paste back.

``restore_clip(frames, reference, models, options)`` takes frames ``[T,H,W,3]`` float32 0..1
(ComfyUI IMAGE as numpy) and returns new frames of the same shape, a debug batch (boxes,
landmarks and the paste mask drawn over each frame) and a :class:`RestoreReport`. Frames without a
face are returned bit-identical; inside a frame, pixels where the paste mask is 0 are unchanged.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import align
from .detect import Detector, Face, choose_detector, load_detector
from .enhance import Enhancer, MaskModel
from .swap import Recogniser, Swapper
from .track import track_clip
from .. import host
from ..errors import MotionComicError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceModels:
    """Which files to use. ``detectors`` are tried in order on the reference (auto choice) when
    more than one is given. Any of swapper/enhancer/mask may be None (that stage is skipped)."""

    detectors: tuple[Path, ...]
    swapper: Path | None = None
    recogniser: Path | None = None
    enhancer: Path | None = None
    mask: Path | None = None
    providers: str = "auto"
    auto: bool = False  # detectors is a candidate list: skip files that are no detector, order by kind


@dataclass(frozen=True)
class FaceOptions:
    """Settings of one restore run (ranges as the node exposes them)."""

    threshold: float = 0.5          # detector score threshold 0..1
    swap_blend: float = 1.0         # 0 = keep the frame's face, 1 = fully swapped
    enhance_blend: float = 1.0      # 0 = no enhancement visible, 1 = fully enhanced
    fidelity: float = 0.7           # CodeFormer weight: 0 = strongest restoration, 1 = most faithful
    mask_blur: float = 0.3          # feather width 0..1
    mask_padding: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # top, right, bottom, left %
    box_expand: float = 0.0         # crop side / box side for faces without landmarks; 0 = template default
    faces: str = "all"              # "all" or "largest" (the largest track only)
    tracking: bool = True
    detect_every: int = 5           # with tracking: detector on every k-th frame (+ where faces change)
    smoothing: float = 2.0          # with tracking: Gaussian sigma in frames
    det_size: int = 640
    batch: int = 8                  # frames per model batch
    debug: bool = True


@dataclass
class RestoreReport:
    detector: str = ""
    detector_calls: int = 0
    frames: int = 0
    frames_with_faces: int = 0
    tracks: int = 0
    providers: list[str] = field(default_factory=list)

    @property
    def calls_per_frame(self) -> float:
        return self.detector_calls / max(self.frames, 1)


def to_u8(image: np.ndarray) -> np.ndarray:
    """float 0..1 [H,W,3] -> uint8 RGB (what the detectors take)."""
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


@dataclass
class _Stages:
    detectors: list[Detector]
    swapper: Swapper | None
    recogniser: Recogniser | None
    enhancer: Enhancer | None
    mask: MaskModel | None


def _open(models: FaceModels, options: FaceOptions) -> _Stages:
    if not models.detectors:
        raise MotionComicError("No face detector given: put one in models/facedetection/ (see docs/faces.md).")
    dets = []
    for p in models.detectors:
        try:
            dets.append(load_detector(p, options.threshold, options.det_size, models.providers))
        except MotionComicError as exc:
            if not models.auto:
                raise
            log.warning("auto detector: skipping %s (%s)", p.name, exc)
    if not dets:
        raise MotionComicError("None of the detector candidates is usable: " + ", ".join(p.name for p in models.detectors))
    # landmark detectors first (5-point alignment), then YOLO, then cascades
    dets.sort(key=lambda d: {"scrfd": 0, "yolo": 1}.get(d.kind, 2) - (0.5 if d.has_landmarks else 0))
    swapper = Swapper(models.swapper, models.providers) if models.swapper else None
    recogniser = Recogniser(models.recogniser, models.providers) if models.recogniser else None
    if swapper is not None and recogniser is None:
        raise MotionComicError(
            "The face swapper needs a recogniser for the reference embedding: choose an ArcFace ONNX "
            "(e.g. buffalo_l/w600k_r50.onnx in models/insightface/) in the face models loader.")
    enhancer = Enhancer(models.enhancer, models.providers) if models.enhancer else None
    mask = MaskModel(models.mask, models.providers) if models.mask else None
    return _Stages(dets, swapper, recogniser, enhancer, mask)


def _reference(stages: _Stages, reference: np.ndarray | None, needs_face: bool) -> tuple[Detector, Face | None]:
    dets = stages.detectors
    if reference is None:
        if needs_face:
            raise MotionComicError("Face swap needs a reference image with a face; connect one or set swapper to none.")
        return dets[0], None
    try:
        det, faces = choose_detector(dets, to_u8(reference))
    except MotionComicError:
        if needs_face:
            raise
        log.warning("no detector finds a face in the reference; using %s", dets[0].name)
        return dets[0], None
    return det, faces[0]


def _select(per_frame: list[list[Face]], mode: str) -> list[list[Face]]:
    if mode != "largest":
        return per_frame
    area: dict[int, float] = {}
    for faces in per_frame:
        for f in faces:
            area[f.track] = area.get(f.track, 0.0) + f.area
    if not area:
        return per_frame
    best = max(area, key=area.get)
    return [[f for f in faces if f.track == best] for faces in per_frame]


def _apply(frames: np.ndarray, jobs: list[tuple[int, Face]], template: str, size: int, run, blend: float,
           options: FaceOptions, mask_model: MaskModel | None, masks_out: np.ndarray) -> None:
    """Warp each (frame, face), run ``run`` on the batch of crops, blend and paste back in place."""
    if not jobs or blend <= 0:
        return
    expand = options.box_expand or None
    warps = [align.face_warp(f, template, size, expand) for _, f in jobs]
    crops = np.stack([align.warp_face(frames[t], m, size) for (t, _), m in zip(jobs, warps)])
    result = run(crops)
    if blend < 1:
        result = crops + blend * (result - crops)
    box = align.box_mask(size, float(options.mask_blur), tuple(float(p) for p in options.mask_padding))
    extra = mask_model.masks(crops) if mask_model is not None else None
    for k, ((t, _), m) in enumerate(zip(jobs, warps)):
        mask = box if extra is None else np.minimum(box, extra[k])
        region, alpha = align.paste_into(frames[t], result[k], m, mask)  # frames is our own copy
        if region is not None and masks_out.shape[1:] == frames.shape[1:3]:  # debug wants the masks
            x0, y0, x1, y1 = region
            np.maximum(masks_out[t, y0:y1, x0:x1], alpha, out=masks_out[t, y0:y1, x0:x1])


def draw_debug(frame: np.ndarray, faces: list[Face], mask: np.ndarray) -> np.ndarray:
    """Frame with the paste mask tinted red, boxes in green and landmarks in yellow (float 0..1)."""
    import cv2

    img = frame * (1.0 - 0.5 * mask[..., None]) + np.array([1.0, 0.0, 0.0], np.float32) * (0.5 * mask[..., None])
    img = to_u8(img)
    for f in faces:
        x1, y1, x2, y2 = [int(round(v)) for v in f.box]
        cv2.rectangle(img, (x1, y1), (x2, y2), (0, 255, 0), 2)
        if f.landmarks is not None:
            for x, y in f.landmarks:
                cv2.circle(img, (int(round(x)), int(round(y))), 2, (255, 255, 0), -1)
    return img.astype(np.float32) / 255.0


def restore_clip(frames: np.ndarray, reference: np.ndarray | None, models: FaceModels,
                 options: FaceOptions = FaceOptions()) -> tuple[np.ndarray, np.ndarray, RestoreReport]:
    """Restore the faces of ``frames`` [T,H,W,3] float32 0..1 from ``reference`` [H,W,3] 0..1.

    Returns (frames [T,H,W,3], debug [T,H,W,3] — empty [0,...] when ``options.debug`` is off,
    report). The input arrays are not modified.
    """
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise MotionComicError(f"frames must be [T,H,W,3] RGB, got shape {tuple(frames.shape)}")
    stages = _open(models, options)
    det, _ref_face = _reference(stages, reference, stages.swapper is not None)
    latent = None
    if stages.swapper is not None:
        rec = stages.recogniser
        m = align.face_warp(_ref_face, rec.template, rec.size, options.box_expand or None)
        emb = rec.embed(align.warp_face(reference.astype(np.float32), m, rec.size)[None])[0]
        latent = stages.swapper.latent(emb)

    n = len(frames)
    progress = host.Progress(2 * n, "faces")
    calls0 = det.calls

    def detect(i: int) -> list[Face]:
        progress.update_absolute(min(progress.n + 1, n - 1))  # also checks cancel
        return det.detect(to_u8(frames[i]))

    per_frame = track_clip(n, detect, options.tracking, options.detect_every, options.smoothing)
    per_frame = _select(per_frame, options.faces)
    progress.update_absolute(n)
    report = RestoreReport(detector=det.name, detector_calls=det.calls - calls0, frames=n,
                           frames_with_faces=sum(1 for f in per_frame if f),
                           tracks=len({f.track for fs in per_frame for f in fs}))
    onnx_stages = [s.model for s in (stages.swapper, stages.enhancer, stages.mask) if s is not None]
    onnx_stages += [det.model] if hasattr(det, "model") else []
    report.providers = sorted({m.providers[0] for m in onnx_stages})

    out = frames.astype(np.float32, copy=True)
    masks = np.zeros(frames.shape[:3] if options.debug else (n, 1, 1), np.float32)
    batch = max(int(options.batch), 1)
    for start in range(0, n, batch):
        idx = range(start, min(start + batch, n))
        jobs = [(t, f) for t in idx for f in per_frame[t]]
        if stages.swapper is not None:
            sw = stages.swapper
            _apply(out, jobs, sw.template, sw.size, lambda c: sw.swap(c, latent), options.swap_blend,
                   options, stages.mask, masks)
        if stages.enhancer is not None:
            en = stages.enhancer
            _apply(out, jobs, en.template, en.size, lambda c: en.enhance(c, options.fidelity),
                   options.enhance_blend, options, stages.mask, masks)
        for t in idx:
            progress.update_absolute(n + t + 1)
    debug = np.zeros((0,) + frames.shape[1:], np.float32)
    if options.debug:
        debug = np.stack([draw_debug(out[t], per_frame[t], masks[t]) for t in range(n)]) if n else debug
    log.info("faces: %s, %d detector calls for %d frames, %d with faces", report.detector,
             report.detector_calls, n, report.frames_with_faces)
    return out, debug, report


def check_models(models: FaceModels) -> str:
    """Open every model once (errors surface at the loader, sessions stay cached) and describe them."""
    st = _open(models, FaceOptions())
    parts = ["detectors: " + ", ".join(f"{d.name} ({d.kind}{', landmarks' if d.has_landmarks else ''})"
                                       for d in st.detectors)]
    for label, stage in (("swapper", st.swapper), ("recogniser", st.recogniser), ("enhancer", st.enhancer),
                         ("mask", st.mask)):
        if stage is not None:
            parts.append(f"{label}: {stage.path.name} on {stage.model.providers[0]}")
    return "; ".join(parts)
