"""prepare-dataset figures: seconds per minute of 480p footage, against decoding the same footage
in the same run, and peak memory for footage of two lengths (it must not grow with the length).

    OMP_NUM_THREADS=1 python benchmarks/dataset.py [--minutes 1 2] [--size 480x854] [--fps 24]

Synthetic footage (tests/synthetic_footage.py): shots of 2-8 s with real cuts, one in five still
(dropped by the motion filter), a textured card moving across a textured background. Default
dataset settings (49 frames at 8 fps, long side 720, no captions). Each measured step runs in its
own process so its peak RSS is its own; CPU seconds (ours + the ffmpeg processes) are printed beside
wall seconds because they hold when other work shares the cores. Run from the repository root.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _pack import ROOT, import_pack

sys.path.insert(0, str(ROOT / "tests"))

CHILD = """
import sys, time, json
sys.path.insert(0, sys.argv[1] + "/benchmarks"); sys.path.insert(0, sys.argv[1] + "/tests")
from _pack import import_pack, peak_rss_mb
import_pack(sys.argv[1])
mode, video, out = sys.argv[2], sys.argv[3], sys.argv[4]
import numpy as np, torch, cv2  # imported by both modes, so the baseline's RSS includes them
from motioncomic.media.video import iter_video
import resource
cpu0 = sum(getattr(resource.getrusage(resource.RUSAGE_SELF), f) for f in ("ru_utime", "ru_stime"))
t0 = time.perf_counter()
if mode == "decode":
    meta, frames = iter_video(video)
    n = sum(1 for _ in frames)
    extra = {"frames": n}
else:
    from motioncomic.training.prepare import PrepareSettings, prepare_dataset
    r = prepare_dataset([video], out, PrepareSettings())
    extra = {"clips": len(r.written), "dropped": len(r.dropped)}
import resource
cpu = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
          for f in ("ru_utime", "ru_stime"))  # this process and its ffmpeg children
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": cpu - cpu0, "peak_mb": peak_rss_mb(), **extra}))
"""


def _shots(seconds: float, fps: float):
    from synthetic_footage import Shot

    lengths = [7, 3, 9, 13, 2, 8, 7, 10]  # seconds; a 49-frame clip at 8 fps needs 6.6 s with margins
    shots, total, i = [], 0, 0
    while total < int(seconds * fps):
        n = min(int(lengths[i % len(lengths)] * fps), int(seconds * fps) - total)  # exactly `seconds`
        shots.append(Shot(n, speed=0.0 if i % 5 == 4 else 2.0 + i % 3, palette=i))
        total += n
        i += 1
    return shots


def _child(mode: str, video: Path, out: Path) -> dict:
    import json

    res = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), mode, str(video), str(out)],
                         capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[1.0, 2.0])
    ap.add_argument("--size", default="480x854", help="HxW of the footage")
    ap.add_argument("--fps", type=float, default=24.0)
    args = ap.parse_args()
    h, w = map(int, args.size.split("x"))
    import_pack()
    from motioncomic.media.video import ffmpeg_exe
    from synthetic_footage import write_footage

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for minutes in args.minutes:
            video = tmp / f"footage_{minutes:g}min.mp4"
            t0 = time.perf_counter()
            write_footage(video, _shots(minutes * 60, args.fps), h=h, w=w, fps=args.fps)
            made = time.perf_counter() - t0
            t0 = time.perf_counter()
            c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(video), "-f", "null", "-"], check=True)
            ffmpeg_s = time.perf_counter() - t0
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            ffmpeg_cpu = c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime
            dec = _child("decode", video, tmp / "unused")
            prep = _child("prepare", video, tmp / f"ds_{minutes:g}")
            print(f"{minutes:g} min of {w}x{h} {args.fps:g} fps footage ({dec['frames']} frames, made in "
                  f"{made:.0f} s): prepare-dataset {prep['seconds'] / minutes:.1f} s wall, "
                  f"{prep['cpu'] / minutes:.1f} s CPU per minute of footage ({prep['clips']} clips, "
                  f"{prep['dropped']} dropped); vs plain ffmpeg decode x{prep['seconds'] / ffmpeg_s:.1f} wall "
                  f"x{prep['cpu'] / ffmpeg_cpu:.1f} CPU ({ffmpeg_s:.1f} s / {ffmpeg_cpu:.1f} s CPU), vs decoding "
                  f"to numpy x{prep['seconds'] / dec['seconds']:.1f} wall x{prep['cpu'] / dec['cpu']:.1f} CPU; "
                  f"peak RSS {prep['peak_mb']:.0f} MB vs {dec['peak_mb']:.0f} MB for the decode alone")


if __name__ == "__main__":
    main()
