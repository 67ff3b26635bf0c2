"""Weight-free optical-flow interpolation on CPU: frames/s against a cross-fade, and flat memory.

* Speed: ``--pairs`` pairs of ``--sizes`` frames (a smooth texture with a disc moving ~5% of the
  width per frame) streamed through ``iter_interpolate`` at x2, for ``flow`` and for ``crossfade``
  (the in-run baseline: same machinery, a plain blend). Prints synthesised frames/s and the time
  ratio flow / cross-fade.
* Memory: ``--mem-frames`` (default 16 and 128) input frames generated on the fly and streamed
  through ``iter_interpolate`` (outputs consumed and dropped, as a video writer would), each count
  in its own process: peak RSS during the loop (VmHWM reset after the imports) and its growth over
  the RSS before the loop. Prints MB and the ratio
  (the pipeline holds one pair: it should be ~1.0, must be <= 1.2).

SGM-VFI has its own benchmark, ``benchmarks/sgm_vfi.py`` (same streaming entry, model time).

    OMP_NUM_THREADS=1 python benchmarks/interpolation.py [--sizes 480x720 720x1280] [--pairs 4]
        [--mem-size 480x720] [--mem-frames 16 128] [--preset medium]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

from _pack import import_pack as _import_pack
ROOT = Path(__file__).resolve().parents[1]


def frames(n: int, h: int, w: int):
    """Yield ``n`` frames ``[H, W, 3]`` float32: textured background, a textured disc on a curve."""
    import math

    import cv2
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    bg = cv2.resize(rng.random((h // 24 + 2, w // 24 + 2, 3), dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    tex = cv2.resize(rng.random((h // 40 + 2, h // 40 + 2, 3), dtype=np.float32), (h // 3, h // 3),
                     interpolation=cv2.INTER_NEAREST)
    r = h // 6
    for i in range(n):
        img = np.clip(0.2 + 0.6 * bg, 0, 1)
        cx = int(w / 2 + 0.3 * w * math.cos(0.15 * i))
        cy = int(h / 2 + 0.25 * h * math.sin(0.15 * i))
        mask = np.zeros((h, w), np.uint8)
        cv2.circle(mask, (cx, cy), r, 1, -1)
        y0, x0 = max(0, cy - r), max(0, cx - r)
        y1, x1 = min(h, cy + r), min(w, cx + r)
        patch = np.zeros_like(img)
        patch[y0:y1, x0:x1] = tex[: y1 - y0, : x1 - x0]
        img = np.where(mask[..., None] > 0, patch, img)
        yield torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))


def speed(h: int, w: int, pairs: int, preset: str) -> dict:
    _import_pack()
    from motioncomic.interpolation.clip import iter_interpolate
    from motioncomic.interpolation.crossfade import CrossfadeInterpolator
    from motioncomic.interpolation.flow import FlowInterpolator

    clip = list(frames(pairs + 1, h, w))
    out = {}
    for name, interp in (("crossfade", CrossfadeInterpolator()), ("flow", FlowInterpolator(preset=preset))):
        best = float("inf")
        for _ in range(2):  # best of 2: the machine is shared
            t0 = time.perf_counter()
            n = sum(1 for _ in iter_interpolate(clip, interp, 2))
            best = min(best, time.perf_counter() - t0)
        assert n == 2 * pairs + 1
        out[name] = {"seconds": best, "synth_fps": pairs / best}
    out["ratio"] = out["flow"]["seconds"] / out["crossfade"]["seconds"]
    return out


CHILD = """
import sys, json
sys.path.insert(0, sys.argv[1])
import interpolation as B
B._import_pack()
from motioncomic.interpolation.clip import iter_interpolate
from motioncomic.interpolation.flow import FlowInterpolator
n, h, w, preset = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
import torch, cv2, numpy  # imports are not part of the loop's memory
B.reset_peak()
before = B.rss_mb()
count = sum(1 for _ in iter_interpolate(B.frames(n, h, w), FlowInterpolator(preset=preset), 2, total=n))
print(json.dumps({"frames": n, "out": count, "before_mb": before, "peak_mb": B.peak_mb()}))
"""


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0  # kB
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Reset the peak RSS (VmHWM) so it measures the loop, not the imports (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def rss_mb() -> float:
    return _status_mb("VmRSS")


def peak_mb() -> float:
    return _status_mb("VmHWM")


def memory(n: int, h: int, w: int, preset: str) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, str(Path(__file__).parent), str(n), str(h), str(w), preset],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _size(s: str) -> tuple[int, int]:
    h, w = s.lower().split("x")
    return int(h), int(w)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["480x720", "720x1280"])
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--mem-size", default="480x720")
    ap.add_argument("--mem-frames", nargs=2, type=int, default=[16, 128])
    ap.add_argument("--preset", default="medium", choices=["ultrafast", "fast", "medium"])
    args = ap.parse_args()

    for s in args.sizes:
        h, w = _size(s)
        r = speed(h, w, args.pairs, args.preset)
        print(f"{h}x{w}: flow {r['flow']['synth_fps']:.2f} frames/s ({r['flow']['seconds'] / args.pairs:.3f} s/pair), "
              f"cross-fade {r['crossfade']['synth_fps']:.1f} frames/s; time ratio flow/cross-fade {r['ratio']:.1f}x")
    h, w = _size(args.mem_size)
    small, big = (memory(n, h, w, args.preset) for n in args.mem_frames)
    grow_small = small["peak_mb"] - small["before_mb"]
    grow_big = big["peak_mb"] - big["before_mb"]
    ratio = big["peak_mb"] / small["peak_mb"]
    print(f"memory at {h}x{w} (flow, x2, streamed): {small['frames']} frames -> peak {small['peak_mb']:.0f} MB "
          f"(+{grow_small:.0f} MB over the {small['before_mb']:.0f} MB before the loop); {big['frames']} frames -> "
          f"peak {big['peak_mb']:.0f} MB (+{grow_big:.0f} MB); peak ratio {ratio:.3f} "
          f"({'flat' if ratio <= 1.2 else 'NOT flat'}), growth ratio {grow_big / max(grow_small, 1e-6):.2f}")


if __name__ == "__main__":
    main()
