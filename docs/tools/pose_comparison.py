"""Draw docs/images/pose_retarget.png: a 7-head dancer driving a 2.5-head chibi, three frames.

Columns: the chibi reference's own skeleton, the driving skeleton, MimicMotion's global fit,
per-bone ratios fixed on the first frame (the UniAnimate-DiT / Wan-Animate preprocessing idea,
re-implemented here only for the picture), ours (skeleton retargeting). The dancer steps towards
the camera (x1.5 over the clip) and dances; in the first frame the right forearm points at the
camera (drawn at 40 % of its length). All skeletons are synthetic (tests/tiny_poses.py), drawn in
MimicMotion's style.

    python3 docs/tools/pose_comparison.py [--out docs/images/pose_retarget.png]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _pack import import_pack  # noqa: E402

import_pack()

import cv2  # noqa: E402
import numpy as np  # noqa: E402

import tiny_poses as tp  # noqa: E402
from motioncomic.poses import retarget as rt  # noqa: E402
from motioncomic.poses import skeleton as sk  # noqa: E402
from motioncomic.poses.keypoints import Poses  # noqa: E402
from motioncomic.poses.render import draw_frame  # noqa: E402

SIZE = (1024, 576)  # both portrait: reference image and phone-shot driving clip
PANEL = (320, 180)
FRAMES = (0, 20, 40)


def driver(n: int = 48) -> Poses:
    ang = tp.dance_angles(n, seed=3, amplitude=1.0)
    parts = []
    for t in range(n):
        z = 1 + 0.5 * t / (n - 1)  # walks towards the camera
        parts.append(tp.skeleton(7, 90 * z, (288 + 40 * np.sin(t / 8), 200 + 60 * (z - 1)), ang[t:t + 1], size=SIZE))
    pts = np.concatenate([p.points for p in parts])
    pts[0, 4] = pts[0, 3] + 0.4 * (pts[0, 4] - pts[0, 3])  # frame 0: forearm towards the camera
    pts[0, 113:134] += pts[0, 4] - np.concatenate([p.points for p in parts])[0, 4]
    return Poses(pts, np.concatenate([p.scores for p in parts]), SIZE, fps=24.0)


def first_frame_ratios(ref: Poses, drv: Poses) -> Poses:
    """Per-bone length ratios measured once on the first frame, applied to every frame."""
    ratio = np.linalg.norm(sk.bone_vectors(ref.points[0]), axis=1) / np.linalg.norm(sk.bone_vectors(drv.points[0]), axis=1)
    out = drv.points.astype(np.float64).copy()
    vec = sk.bone_vectors(drv.points.astype(np.float64))
    s = float(np.median(ratio))
    root = ref.points[0, 1] + s * (drv.points[:, 1] - drv.points[0, 1])
    unit = vec / np.linalg.norm(vec, axis=2, keepdims=True)
    sk.forward(root, unit, np.linalg.norm(vec, axis=2) * ratio, out)
    for anchor, sl in ((0, slice(24, 92)), (7, slice(92, 113)), (4, slice(113, 134))):
        out[:, sl] = out[:, anchor, None] + (drv.points[:, sl] - drv.points[:, anchor, None]) * s
    return Poses(out.astype(np.float32), drv.scores, ref.size, drv.found, drv.fps)


def panel(p: Poses, i: int) -> np.ndarray:
    img = draw_frame(p.points[i], p.scores[i], p.size)
    return cv2.resize(img, (PANEL[1], PANEL[0]), interpolation=cv2.INTER_AREA)


def label(img: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((26, img.shape[1], 3), 32, np.uint8)
    cv2.putText(bar, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (235, 235, 235), 1, cv2.LINE_AA)
    return np.concatenate([bar, img])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(ROOT / "docs" / "images" / "pose_retarget.png"))
    args = ap.parse_args()
    chibi = tp.skeleton(2.5, 200, (288, 420), size=SIZE)
    drv = driver()
    glob = rt.retarget(chibi, drv, rt.RetargetOptions(method="global"))
    ours = rt.retarget(chibi, drv)
    ratios = first_frame_ratios(chibi, drv)
    cols = [("chibi reference", lambda i: panel(chibi, 0)), ("driver (7 heads)", lambda i: panel(drv, i)),
            ("MimicMotion fit", lambda i: panel(glob, i)), ("ratios of frame 0", lambda i: panel(ratios, i)),
            ("ours", lambda i: panel(ours, i))]
    rows = []
    for r, i in enumerate(FRAMES):
        cells = [c(i) for _, c in cols]
        row = np.concatenate([np.pad(c, ((2, 2), (2, 2), (0, 0)), constant_values=80) for c in cells], 1)
        if r == 0:
            heads = np.concatenate([label(np.zeros((0, PANEL[1] + 4, 3), np.uint8), name) for name, _ in cols], 1)
            row = np.concatenate([heads, row])
        rows.append(row)
    out = np.concatenate(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, cv2.cvtColor(out, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out} ({out.shape[1]}x{out.shape[0]})")


if __name__ == "__main__":
    main()
