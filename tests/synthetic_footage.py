"""Synthetic "studio footage" with real shot cuts and real motion, written through real ffmpeg.

Each shot has its own palette (so a cut changes the colour histogram, as between real shots) and a
textured background; a textured card moves across it at ``speed`` pixels per source frame (0 = a
still shot, which the motion filter must drop). Used by the dataset tests and benchmarks/dataset.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

#: base colours (RGB 0..1) far apart in the cut detector's 8x8x8 histogram
PALETTES = [(0.85, 0.2, 0.15), (0.15, 0.3, 0.85), (0.2, 0.75, 0.25), (0.9, 0.8, 0.2), (0.6, 0.2, 0.7),
            (0.1, 0.7, 0.75)]


@dataclass(frozen=True)
class Shot:
    frames: int
    speed: float = 3.0  # pixels per source frame at the footage's width
    palette: int = 0


def shot_frames(shot: Shot, h: int, w: int, seed: int = 0) -> Iterator[np.ndarray]:
    """uint8 ``[h, w, 3]`` frames of one shot."""
    rng = np.random.RandomState(seed)
    base = np.float32(PALETTES[shot.palette % len(PALETTES)])
    # low-frequency texture: blocky noise scaled up, +-15 % around the base colour
    noise = rng.rand(max(2, h // 8), max(2, w // 8)).astype(np.float32)
    noise = np.kron(noise, np.ones((8, 8), np.float32))[:h, :w]
    noise = np.pad(noise, ((0, h - noise.shape[0]), (0, w - noise.shape[1])), mode="edge")
    bg = np.clip(base[None, None] * (0.85 + 0.3 * noise[..., None]), 0, 1)
    ch, cw = max(4, h // 3), max(4, w // 4)
    yy, xx = np.mgrid[0:ch, 0:cw]
    card = np.where(((yy // 4 + xx // 4) % 2)[..., None] == 0, base * 0.35, np.minimum(base * 1.25, 1.0))
    card = card.astype(np.float32)
    y0 = (h - ch) // 2
    for t in range(shot.frames):
        img = bg.copy()
        x0 = int(round(t * shot.speed)) % max(1, w - cw)
        img[y0:y0 + ch, x0:x0 + cw] = card
        yield (img * 255 + 0.5).astype(np.uint8)


def footage(shots: Sequence[Shot], h: int, w: int) -> Iterator[np.ndarray]:
    """The frames of ``shots`` one after the other (hard cuts between them)."""
    for n, s in enumerate(shots):
        yield from shot_frames(s, h, w, seed=n)


def write_footage(path: str | Path, shots: Sequence[Shot], h: int = 72, w: int = 128, fps: float = 24.0) -> Path:
    """Encode ``shots`` into ``path`` (mp4/webm) with the pack's ffmpeg writer; returns the path."""
    from motioncomic.media.video import write_video

    return write_video(footage(shots, h, w), path, fps, crf=18, progress=False)
