"""Still images from disk as ComfyUI IMAGE arrays (for the headless route)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import MotionComicError


def load_image(path: str | os.PathLike, background: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """Read an image file as float32 ``[1,H,W,3]`` in 0..1.

    EXIF orientation is applied; grayscale and palette images become RGB; transparent pixels are
    composited over ``background`` (black, like the letterbox borders) instead of keeping whatever
    colour happens to sit under alpha 0.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise MotionComicError(f"image not found: {p}")
    try:
        with Image.open(p) as im:
            im = ImageOps.exif_transpose(im)
            im.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise MotionComicError(f"cannot read {p.name} as an image: {exc}") from exc
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*background, 255))
        im = Image.alpha_composite(canvas, rgba)
    arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return arr[None]
