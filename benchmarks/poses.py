"""Pose benchmark: DWPose extraction, retargeting and rendering on the CPU.

Measures, with the TINY ONNX models of tests/tiny_poses.py (real input/output sizes: YOLOX
640x640, RTMPose 384x288; their compute is a few ops, so the figures are our pipeline's own
cost — pre/post-processing, crops, decoding, tracking — real models add their inference time):
  * extraction frames/s on 576x1024 frames: detector on key frames + tracking vs every frame;
  * retargeting microseconds per frame (ours with and without smoothing, MimicMotion's global fit);
  * MimicMotion-style rendering ms per 576x1024 frame;
  * peak memory (tracemalloc: numpy allocations) of extract -> retarget -> render streamed over
    72 vs 288 driving frames.

Run from the repository root:
    OMP_NUM_THREADS=1 python3 benchmarks/poses.py [--frames 48] [--detect-every 8]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _pack import import_pack, peak_rss_mb  # noqa: E402

import_pack()

import numpy as np  # noqa: E402

import tiny_poses as tp  # noqa: E402
from motioncomic.poses import extract, files, render, retarget as rt  # noqa: E402

H, W = 576, 1024


def clip(n: int):
    """A figure dancing across a 576x1024 frame (frames made on the fly: nothing is kept)."""
    for t in range(n):
        x0 = 100 + int(300 * (1 + np.sin(t / 9)))
        yield tp.person_frame(H, W, (x0, 60 + t % 7, x0 + 180, 520), seed=t % 5)


def time_extraction(models, n: int, mode: str, every: int) -> float:
    frames = list(clip(n))  # decode cost excluded: the same frames for both modes
    t = time.perf_counter()
    extract.extract_frames(models, frames, mode=mode, detect_every=every)
    return n / (time.perf_counter() - t)


def peak_stream(models, n: int) -> int:
    ref = tp.skeleton(2.5, 160, (288, 300), size=(H, W // 2))
    tracemalloc.start()
    poses = extract.extract_frames(models, clip(n), mode="track", detect_every=8, fps=24.0)
    moved = rt.retarget(ref, poses)
    for _img in render.iter_render(moved):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--detect-every", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        models = files.open_dwpose(*tp.install_for_workflows(Path(d)), "cpu")
        time_extraction(models, 2, "every_frame", 1)  # warm-up
        every = time_extraction(models, args.frames, "every_frame", 1)
        track = time_extraction(models, args.frames, "track", args.detect_every)
        print(f"extraction at {W}x{H}, tiny models, {args.frames} frames:")
        print(f"  every frame          {every:7.1f} frames/s  (baseline)")
        print(f"  key frames + track   {track:7.1f} frames/s  = {track / every:.2f}x  (detector every {args.detect_every})")

        ref = tp.skeleton(2.5, 160, (288, 300), size=(H, W // 2))
        drv = tp.skeleton(7, 60, (500, 150), tp.dance_angles(2000), size=(H, W))
        drv = drv.with_points(drv.points + np.random.default_rng(0).normal(0, 1, drv.points.shape).astype(np.float32))
        drv = type(drv)(drv.points, drv.scores, drv.size, fps=24.0)
        print("retargeting, 2000 frames:")
        base = None
        for name, opt in (("global fit (MimicMotion)", rt.RetargetOptions(method="global")),
                          ("skeleton, no smoothing", rt.RetargetOptions(smoothing=False)),
                          ("skeleton + One-Euro", rt.RetargetOptions())):
            rt.retarget(ref, drv.frame(0), opt)
            t = time.perf_counter()
            rt.retarget(ref, drv, opt)
            us = (time.perf_counter() - t) / len(drv) * 1e6
            base = base or us
            print(f"  {name:26s} {us:8.1f} us/frame  = {us / base:.1f}x")
        moved = type(drv)(drv.points[:24], drv.scores[:24], (H, W))
        t = time.perf_counter()
        for _ in render.iter_render(moved):
            pass
        print(f"rendering (MimicMotion style, 2160-px canvas) {(time.perf_counter() - t) / 24 * 1e3:.1f} ms/frame at {W}x{H}")

        p72, p288 = peak_stream(models, 72), peak_stream(models, 288)
        print(f"peak numpy memory, extract+retarget+render streamed: 72 frames {p72 / 2**20:.1f} MiB, "
              f"288 frames {p288 / 2**20:.1f} MiB = {p288 / p72:.2f}x")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
