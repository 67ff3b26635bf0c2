"""SGM-VFI small on CPU at true size with random weights: seconds per pair, frames/s, peak memory.

Each size runs in its own process so the peak resident memory (ru_maxrss) belongs to that size.
Also checks that memory stays flat over many pairs (``--flat``): peak RSS after 2 pairs vs after
N pairs at a small size.

    OMP_NUM_THREADS=1 python benchmarks/sgm_vfi.py [--sizes 480x720 720x1280] [--pairs 2 1]
        [--variant small|base|small_local] [--dtype float32|bfloat16] [--flat 16]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from _pack import import_pack as _import_pack  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def run_one(height: int, width: int, pairs: int, variant: str, dtype: str) -> dict:
    """Time ``pairs`` midpoints of ``height x width`` frames (after one warm-up-free first pair)."""
    _import_pack()
    import torch

    from motioncomic.interpolation.sgm_vfi.loader import SGMVFIInterpolator
    from motioncomic.interpolation.sgm_vfi.network import BASE, SMALL, SGMConfig, SGMVFI

    cfg = {"small": SMALL, "base": BASE, "small_local": SGMConfig(16, (2, 2, 2, 4), global_branch=False)}[variant]
    torch.manual_seed(0)
    net = SGMVFI(cfg).eval().requires_grad_(False).to(getattr(torch, dtype))
    interp = SGMVFIInterpolator(net, getattr(torch, dtype), "cpu")
    base_mb = _peak_mb()
    g = torch.Generator().manual_seed(1)
    a = torch.rand(1, height, width, 3, generator=g)
    b = torch.roll(a, shifts=(9, -14), dims=(1, 2))  # large motion
    times = []
    for _ in range(pairs):
        t0 = time.perf_counter()
        out = interp.pair(a, b, 0.5)
        times.append(time.perf_counter() - t0)
    interp.release()
    assert out.shape == a.shape and torch.isfinite(out).all()
    sec = min(times)
    return {"size": f"{height}x{width}", "variant": variant, "dtype": dtype, "pairs": pairs,
            "threads": torch.get_num_threads(), "sec_per_pair": round(sec, 2),
            "frames_per_s": round(1.0 / sec, 3), "peak_rss_mb": round(_peak_mb()),
            "weights_rss_mb": round(base_mb)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["480x720", "720x1280"])
    ap.add_argument("--pairs", nargs="+", type=int, default=[2, 1], help="pairs per size (last value repeats)")
    ap.add_argument("--variant", default="small", choices=["small", "base", "small_local"])
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    ap.add_argument("--flat", type=int, default=0, help="also compare peak RSS of 2 vs N pairs at 256x384")
    ap.add_argument("--child", nargs=3, metavar=("H", "W", "PAIRS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        h, w, n = map(int, args.child)
        print(json.dumps(run_one(h, w, n, args.variant, args.dtype)))
        return

    def child(h: int, w: int, n: int) -> dict:
        cmd = [sys.executable, __file__, "--child", str(h), str(w), str(n), "--variant", args.variant,
               "--dtype", args.dtype]
        return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])

    print(f"SGM-VFI {args.variant} {args.dtype}, random weights, CPU")
    for i, size in enumerate(args.sizes):
        h, w = map(int, size.lower().split("x"))
        n = args.pairs[min(i, len(args.pairs) - 1)]
        r = child(h, w, n)
        print(f"  {r['size']:>9}: {r['sec_per_pair']:7.2f} s/pair  {r['frames_per_s']:.3f} frames/s  "
              f"peak RSS {r['peak_rss_mb']} MB (weights+runtime before the first pair {r['weights_rss_mb']} MB)"
              f"  [{r['pairs']} pair(s), {r['threads']} thread(s)]")
    if args.flat:
        few, many = child(256, 384, 2), child(256, 384, args.flat)
        ratio = many["peak_rss_mb"] / few["peak_rss_mb"]
        print(f"  flat memory 256x384: peak RSS {few['peak_rss_mb']} MB after 2 pairs, {many['peak_rss_mb']} MB "
              f"after {args.flat} pairs (ratio {ratio:.2f})")


if __name__ == "__main__":
    main()
