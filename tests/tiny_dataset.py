"""A tiny training dataset in the layout ``prepare-dataset`` writes (``training/dataset.py``):
``clips/<id>.mp4`` (real ffmpeg, H.264), ``clips/<id>.png`` (first frame), ``manifest.jsonl``,
``dataset.json``. The clips show a coloured square moving over a gradient, so they have motion
and differ from each other."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def clip_frames(n: int, h: int, w: int, seed: int) -> np.ndarray:
    """uint8 [n,h,w,3]: a square crossing the frame over a per-clip gradient."""
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 1, w)[None, :, None] * rng.uniform(0.2, 0.8, 3)[None, None, :]
    base = np.broadcast_to(base, (h, w, 3)) + np.linspace(0, 0.2, h)[:, None, None]
    color = rng.uniform(0.5, 1.0, 3)
    out = []
    s = max(2, min(h, w) // 3)
    for i in range(n):
        f = base.copy()
        x = int((w - s) * i / max(n - 1, 1))
        f[h // 3 : h // 3 + s, x : x + s] = color
        out.append(np.clip(f * 255, 0, 255).astype(np.uint8))
    return np.stack(out)


def write_dataset(root: Path, clips: int = 2, frames: int = 9, size: tuple[int, int] = (16, 24), fps: float = 8.0,
                  captions: list[str] | None = None, seed: int = 0) -> Path:
    """Write ``clips`` clips of ``frames`` frames at ``size`` (h, w); returns ``root``."""
    from PIL import Image

    from motioncomic.media.video import write_video

    root = Path(root)
    (root / "clips").mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(clips):
        cid = f"tiny-{seed:04d}{i:04d}-s0-{i}"
        f = clip_frames(frames, size[0], size[1], seed * 100 + i)
        write_video(f, root / "clips" / f"{cid}.mp4", fps, crf=16, progress=False)
        Image.fromarray(f[0]).save(root / "clips" / f"{cid}.png")
        caption = (captions or ["a girl waves her hand", "the character turns her head slowly"])[i % 2]
        lines.append(json.dumps(dict(
            id=cid, video=f"clips/{cid}.mp4", first_frame=f"clips/{cid}.png", caption=caption,
            caption_source="sidecar", frames=frames, fps=fps, width=size[1], height=size[0],
            source=str(root / "src.mp4"), start=0.0, end=frames / fps, shot=0, motion=5.0)))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    (root / "dataset.json").write_text(json.dumps({"format": "motioncomic-dataset", "version": 1}))
    return root
