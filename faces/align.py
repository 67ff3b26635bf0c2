"""Alignment: warp a face to a model's template, and paste the result back through a soft mask.

A warp is a 2x3 affine matrix ``M`` mapping frame pixels to crop pixels. With landmarks it is the
5-point similarity fit (``cv2.estimateAffinePartial2D``) to a template; without (anime detectors)
it is a square box crop (scale + shift, no rotation). Paste-back inverts ``M`` and only touches the
frame region the crop covers; pixels where the mask is 0 keep their exact input values.
"""
from __future__ import annotations

import functools

import numpy as np

#: Standard 5-point templates, normalised to a unit square (x, y): eyes, nose tip, mouth corners.
#: arcface_112 is insightface's ``arcface_dst`` / 112; ffhq_512 is the FFHQ alignment the
#: GFPGAN/CodeFormer family was trained with.
TEMPLATES: dict[str, np.ndarray] = {
    "arcface_112": np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                             [41.5493, 92.3655], [70.7299, 92.2041]], np.float32) / 112.0,
    "arcface_128": (np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                              [41.5493, 92.3655], [70.7299, 92.2041]], np.float32) + [8.0, 0.0]) / 128.0,
    "ffhq_512": np.array([[0.37691676, 0.46864664], [0.62285697, 0.46912813], [0.50123859, 0.61331904],
                          [0.39308822, 0.72541100], [0.61150205, 0.72490465]], np.float32),
}

#: For box alignment: the side of the square crop relative to the detector box, per template
#: (the face box spans about this fraction of the template's crop).
BOX_EXPAND = {"arcface_112": 1.25, "arcface_128": 1.4, "ffhq_512": 1.6}


def landmark_warp(landmarks: np.ndarray, template: str, size: int) -> np.ndarray:
    """Similarity transform (rotation, uniform scale, shift) mapping ``landmarks`` [5,2] onto
    ``template`` scaled to ``size`` pixels. Returns M [2,3] float64 (frame -> crop)."""
    import cv2

    dst = TEMPLATES[template] * size
    m, _ = cv2.estimateAffinePartial2D(landmarks.astype(np.float32), dst.astype(np.float32),
                                       method=cv2.RANSAC, ransacReprojThreshold=100)
    if m is None:  # degenerate landmarks: fall back to the box they span
        lo, hi = landmarks.min(0), landmarks.max(0)
        return box_warp(np.array([*lo, *hi], np.float32), size, 2.0)
    return m.astype(np.float64)


def box_warp(box: np.ndarray, size: int, expand: float = 1.6, shift_y: float = 0.0) -> np.ndarray:
    """Square crop of side ``expand * max(w, h)`` centred on ``box`` (moved down by ``shift_y`` of
    the side), scaled to ``size``. Returns M [2,3] float64 (frame -> crop)."""
    x1, y1, x2, y2 = [float(v) for v in box[:4]]
    side = max(x2 - x1, y2 - y1, 1.0) * expand
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 + shift_y * side
    s = size / side
    return np.array([[s, 0.0, size / 2 - s * cx], [0.0, s, size / 2 - s * cy]], np.float64)


def face_warp(face, template: str, size: int, box_expand: float | None = None) -> np.ndarray:
    """Landmark warp when ``face.landmarks`` exist, else box warp with the template's expansion."""
    if face.landmarks is not None:
        return landmark_warp(face.landmarks, template, size)
    return box_warp(face.box, size, box_expand or BOX_EXPAND[template])


def warp_face(frame: np.ndarray, m: np.ndarray, size: int) -> np.ndarray:
    """Crop ``[size,size,C]`` of ``frame`` [H,W,C] through ``m`` (bilinear, edges replicated)."""
    import cv2

    return cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@functools.lru_cache(maxsize=16)
def box_mask(size: int, blur: float = 0.3, padding: tuple[float, float, float, float] = (0, 0, 0, 0)) -> np.ndarray:
    """Feathered box mask [size,size] float32 0..1 in crop space.

    ``blur`` 0..1 is the feather width relative to half the crop; ``padding`` (top, right, bottom,
    left) in percent of the crop cuts the mask in from each side. The outermost pixels are always 0
    so the pasted crop never shows a hard edge.
    """
    import cv2

    mask = np.ones((size, size), np.float32)
    amount = int(size * 0.5 * blur)
    area = max(amount // 2, 1)
    top, right, bottom, left = padding
    mask[: max(area, int(size * top / 100)), :] = 0
    mask[size - max(area, int(size * bottom / 100)):, :] = 0
    mask[:, : max(area, int(size * left / 100))] = 0
    mask[:, size - max(area, int(size * right / 100)):] = 0
    if amount > 0:
        mask = cv2.GaussianBlur(mask, (0, 0), amount * 0.25)
        # the blur leaks onto the rim: lift the mask so the rim is exactly 0 (no seam at the crop edge)
        rim = max(mask[0].max(), mask[-1].max(), mask[:, 0].max(), mask[:, -1].max())
        mask = np.clip((mask - rim) / max(1.0 - rim, 1e-6), 0.0, 1.0)
    mask = mask.astype(np.float32)
    mask.flags.writeable = False  # cached and shared between calls
    return mask


def paste_region(m: np.ndarray, size: int, frame_hw: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """Frame rectangle (x0, y0, x1, y1) covered by the crop under the inverse of ``m``, or None."""
    import cv2

    inv = cv2.invertAffineTransform(m)
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], np.float64) @ inv.T
    h, w = frame_hw
    x0 = int(max(np.floor(corners[:, 0].min()) - 1, 0))
    y0 = int(max(np.floor(corners[:, 1].min()) - 1, 0))
    x1 = int(min(np.ceil(corners[:, 0].max()) + 2, w))
    y1 = int(min(np.ceil(corners[:, 1].max()) + 2, h))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def paste_into(frame: np.ndarray, crop: np.ndarray, m: np.ndarray, mask: np.ndarray):
    """Blend ``crop`` [S,S,3] into ``frame`` [H,W,3] float32 IN PLACE through ``mask`` [S,S].

    Returns ``(region, alpha)``: the frame rectangle (x0, y0, x1, y1) touched and the mask over it
    (None, None when the crop lands outside the frame). Pixels where alpha is 0 are not written.
    """
    import cv2

    size = crop.shape[0]
    region = paste_region(m, size, frame.shape[:2])
    if region is None:
        return None, None
    x0, y0, x1, y1 = region
    inv = cv2.invertAffineTransform(m)
    inv[:, 2] -= (x0, y0)
    dsize = (x1 - x0, y1 - y0)
    back = cv2.warpAffine(crop.astype(np.float32, copy=False), inv, dsize, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(mask.astype(np.float32, copy=False), inv, dsize, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    np.clip(alpha, 0.0, 1.0, out=alpha)
    roi = frame[y0:y1, x0:x1]
    blended = roi + alpha[..., None] * (back - roi)
    np.copyto(roi, blended, where=(alpha > 0)[..., None])  # alpha 0: not even rewritten
    return region, alpha


def paste_back(frame: np.ndarray, crop: np.ndarray, m: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blend ``crop`` [S,S,3] back into a copy of ``frame`` [H,W,3] float32 through ``mask`` [S,S].

    Returns (new frame, frame-space mask [H,W] float32 0..1). Outside the mask the output equals
    the input bit for bit.
    """
    out = frame.copy()
    full = np.zeros(frame.shape[:2], np.float32)
    region, alpha = paste_into(out, crop, m, mask)
    if region is not None:
        x0, y0, x1, y1 = region
        full[y0:y1, x0:x1] = alpha
    return out, full
