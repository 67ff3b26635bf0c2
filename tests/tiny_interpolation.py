"""Helpers for the interpolation tests, benchmarks and workflows.

* :func:`render_scene` draws synthetic clips with known ground truth at any (fractional) time: a
  textured background, a sprite (procedural texture, a drawn character, or a real character image)
  moving on a curved path with large displacements and rotation, passing behind a static occluder,
  and optionally a scene cut.
* :func:`install_for_workflows` / :func:`make_workflow_inputs`: what the shipped interpolation
  workflows need (no model file for the flow method; the clip ``motioncomic_interp_input.mp4`` in
  ComfyUI's ``input/`` folder, written with real ffmpeg by :func:`write_input_clip`).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

#: File name the API workflow ``workflows/api/interpolate_clip.json`` loads (ComfyUI input/).
INPUT_CLIP = "motioncomic_interp_input.mp4"


def background(h: int, w: int, seed: int = 0, hue: float = 0.0) -> np.ndarray:
    """A smooth multi-scale texture ``[H, W, 3]`` float32 in 0..1 (flow can lock on to it)."""
    import cv2

    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float32)
    for cell, amp in ((32, 0.5), (12, 0.3), (5, 0.2)):
        small = rng.random((max(2, h // cell + 2), max(2, w // cell + 2), 3)).astype(np.float32)
        img += amp * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    tint = np.float32([0.5 + 0.4 * math.cos(hue), 0.5 + 0.4 * math.cos(hue + 2.1), 0.5 + 0.4 * math.cos(hue + 4.2)])
    return np.clip(0.15 + 0.6 * img * tint, 0, 1).astype(np.float32)


def sprite_texture(size: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A textured disc sprite: (RGB ``[S,S,3]``, alpha ``[S,S]``)."""
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.random((size // 6 + 2, size // 6 + 2, 3)).astype(np.float32)
    rgb = cv2.resize(small, (size, size), interpolation=cv2.INTER_NEAREST)
    rgb = np.clip(0.2 + 0.8 * rgb, 0, 1)
    alpha = np.zeros((size, size), np.float32)
    cv2.circle(alpha, (size // 2, size // 2), size // 2 - 1, 1.0, -1, cv2.LINE_AA)
    return rgb, alpha


def sprite_drawn(size: int) -> tuple[np.ndarray, np.ndarray]:
    """A simple drawn character (head, eyes, body, arms) with black line art."""
    import cv2

    rgb = np.ones((size, size, 3), np.float32)
    alpha = np.zeros((size, size), np.float32)
    s = size
    for target, colour in ((alpha, 1.0), (rgb, (0.95, 0.8, 0.7))):
        cv2.circle(target, (s // 2, s // 4), s // 5, colour, -1, cv2.LINE_AA)
    for target, colour in ((alpha, 1.0), (rgb, (0.2, 0.35, 0.85))):
        cv2.ellipse(target, (s // 2, int(s * 0.65)), (s // 5, s // 3 - 2), 0, 0, 360, colour, -1, cv2.LINE_AA)
        cv2.line(target, (s // 2, s // 2), (s // 8, s // 3), colour, max(2, s // 14), cv2.LINE_AA)
        cv2.line(target, (s // 2, s // 2), (7 * s // 8, int(s * 0.6)), colour, max(2, s // 14), cv2.LINE_AA)
    cv2.circle(rgb, (s // 2, s // 4), s // 5, (0, 0, 0), max(1, s // 40), cv2.LINE_AA)
    for ex in (s // 2 - s // 12, s // 2 + s // 12):
        cv2.circle(rgb, (ex, s // 4 - s // 30), max(1, s // 30), (0.05, 0.05, 0.1), -1, cv2.LINE_AA)
    cv2.ellipse(rgb, (s // 2, int(s * 0.3)), (s // 12, s // 24), 0, 0, 180, (0.6, 0.1, 0.1), max(1, s // 60), cv2.LINE_AA)
    return rgb, alpha


def sprite_image(path: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A real character image cut out with an elliptical mask (the images have no alpha)."""
    import cv2
    from PIL import Image

    im = Image.open(path).convert("RGB")
    w, h = im.size
    scale = size / max(w, h)
    im = im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
    rgb = np.zeros((size, size, 3), np.float32)
    y0, x0 = (size - im.size[1]) // 2, (size - im.size[0]) // 2
    rgb[y0 : y0 + im.size[1], x0 : x0 + im.size[0]] = np.asarray(im, np.float32) / 255.0
    alpha = np.zeros((size, size), np.float32)
    cv2.ellipse(alpha, (size // 2, size // 2), (im.size[0] // 2 - 1, im.size[1] // 2 - 1), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    return rgb, alpha


def render_scene(
    s: float,
    h: int = 96,
    w: int = 128,
    sprite: tuple[np.ndarray, np.ndarray] | None = None,
    speed: float = 0.35,
    radius: float | None = None,
    spin_deg: float = 12.0,
    occluder: bool = True,
    cut_at: float | None = None,
) -> np.ndarray:
    """Frame at time ``s`` (frames are at integer ``s``): ``[H, W, 3]`` float32 0..1.

    The sprite's centre runs on an ellipse (curved path; at the defaults ~25 px per frame at
    128 px wide), spinning ``spin_deg`` per frame, behind a static vertical bar. After ``cut_at``
    the scene changes (other background, sprite moving the other way).
    """
    import cv2

    after_cut = cut_at is not None and s >= cut_at
    bg = background(h, w, seed=7 if after_cut else 0, hue=2.5 if after_cut else 0.0)
    if sprite is None:
        sprite = sprite_texture(max(8, h // 2))
    rgb, alpha = sprite
    size = rgb.shape[0]
    r = radius if radius is not None else 0.3 * min(h, w)
    ang = (-1 if after_cut else 1) * speed * s
    cx = w / 2 + 1.3 * r * math.cos(ang)
    cy = h / 2 + 0.7 * r * math.sin(ang)
    m = cv2.getRotationMatrix2D((size / 2, size / 2), spin_deg * s, 1.0)
    m[:, 2] += (cx - size / 2, cy - size / 2)
    warped = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    a = cv2.warpAffine(alpha, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)[..., None]
    frame = bg * (1 - a) + warped * a
    if occluder:
        x0 = int(w * 0.72)
        frame[:, x0 : x0 + max(2, w // 16)] = (0.1, 0.1, 0.12)
    return np.clip(frame, 0, 1).astype(np.float32)


def clip(times, **kw):
    """Frames at ``times`` as a torch IMAGE batch ``[N, H, W, 3]``."""
    import torch

    return torch.from_numpy(np.stack([render_scene(float(s), **kw) for s in times]))


def psnr(a, b) -> float:
    """PSNR in dB of two arrays/tensors in 0..1."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse <= 1e-12 else 10 * math.log10(1.0 / mse)


def write_input_clip(path: Path, frames: int = 9, h: int = 96, w: int = 128, fps: int = 8) -> Path:
    """Write a short H.264 mp4 of the moving-sprite scene with imageio-ffmpeg (real ffmpeg)."""
    import imageio_ffmpeg

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = imageio_ffmpeg.write_frames(
        str(path), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p", macro_block_size=16, quality=8
    )
    writer.send(None)
    try:
        for i in range(frames):
            img = render_scene(float(i), h=h, w=w)
            writer.send(np.ascontiguousarray((img * 255 + 0.5).astype(np.uint8)))
    finally:
        writer.close()
    return path


def install_for_workflows(models_dir: Path) -> None:
    """Model files the shipped interpolation workflows need: none (optical flow has no weights).

    Only ``models/vfi/`` is created, so the loader's file list has its folder.
    """
    (Path(models_dir) / "vfi").mkdir(parents=True, exist_ok=True)


def make_workflow_inputs(input_dir: Path) -> Path:
    """Write ``input/motioncomic_interp_input.mp4`` (9 frames, 96x128, 8 fps) for the API workflow."""
    return write_input_clip(Path(input_dir) / INPUT_CLIP)
