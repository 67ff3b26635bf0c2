"""Open-Sora VAE v1.2 benchmark: full-size decode time/memory by spatial micro-batch, and the peak
resident memory of loading a full-size file as a multiple of its size.

Full-size architecture (393M values, upstream's layout) with random fan-in-scaled weights. Every
measurement runs in a fresh subprocess so peak RSS (``ru_maxrss``) belongs to it alone.

    OMP_NUM_THREADS=1 python benchmarks/opensora_vae.py [--frames 51] [--size 144x256]
        [--micro-batches 1 4 16] [--file-dtype float32] [--skip-load] [--skip-decode]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from _pack import import_pack as _import_pack  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def full_size_random(micro_batch_size):
    """The full-size VAE on the CPU with random weights (built on meta, then materialised)."""
    import torch

    from motioncomic.loaders.opensora.temporal_vae import TemporalVAEConfig
    from motioncomic.loaders.opensora.vae import LATENT_SCALE, LATENT_SHIFT, OFFICIAL_SPATIAL_CONFIG, OpenSoraVAE

    with torch.device("meta"):
        vae = OpenSoraVAE(dict(OFFICIAL_SPATIAL_CONFIG), TemporalVAEConfig(), micro_batch_size=micro_batch_size)
    vae = vae.to_empty(device="cpu")
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in vae.named_parameters():
            if p.ndim == 1:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                p.normal_(0.0, (p[0].numel()) ** -0.5, generator=g)
    vae.register_buffer("scale", torch.tensor(LATENT_SCALE).view(1, 4, 1, 1, 1))
    vae.register_buffer("shift", torch.tensor(LATENT_SHIFT).view(1, 4, 1, 1, 1))
    return vae.eval().requires_grad_(False)


# ---------------------------------------------------------------------------- workers
def worker_decode(args) -> dict:
    import torch

    _import_pack()
    mb = None if args.mb == 0 else args.mb
    vae = full_size_random(mb)
    h, w = (int(v) for v in args.size.split("x"))
    lt, lh, lw = vae.get_latent_size((args.frames, h, w))
    z = torch.randn(1, 4, lt, lh, lw, generator=torch.Generator().manual_seed(1))
    base = rss_mb()
    t0 = time.perf_counter()
    x = vae.decode(z, num_frames=args.frames)
    secs = time.perf_counter() - t0
    assert x.shape == (1, 3, args.frames, h, w) and torch.isfinite(x).all()
    return {"seconds": secs, "rss_before_mb": base, "peak_mb": peak_mb()}


def worker_load(args) -> dict:
    _import_pack()
    import torch

    import diffusers  # noqa: F401 - counted in the baseline, not in the load

    from motioncomic.loaders.opensora.vae import load_opensora_vae

    base = rss_mb()
    t0 = time.perf_counter()
    vae = load_opensora_vae(args.path, dtype=getattr(torch, args.dtype))
    secs = time.perf_counter() - t0
    n = sum(p.numel() for p in vae.parameters())
    return {"seconds": secs, "rss_before_mb": base, "peak_mb": peak_mb(), "rss_after_mb": rss_mb(), "params": n}


def write_random_file(path: Path, dtype: str) -> int:
    """A full-size official-layout VAE file with random values; returns its size in bytes."""
    import torch
    from safetensors.torch import save_file

    _import_pack()
    vae = full_size_random(4)
    save_file({k: v.to(getattr(torch, dtype)).contiguous() for k, v in vae.state_dict().items()}, str(path))
    return path.stat().st_size


def run_worker(*extra: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", *extra], capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"worker {extra} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=51)
    ap.add_argument("--size", default="144x256", help="HxW in pixels (144p landscape bucket)")
    ap.add_argument("--micro-batches", type=int, nargs="+", default=[1, 4, 16], help="0 = all frames at once")
    ap.add_argument("--file-dtype", default="float32", help="dtype of the random file for the load test")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--skip-decode", action="store_true")
    ap.add_argument("--worker", choices=["decode", "load"], help=argparse.SUPPRESS)
    ap.add_argument("--mb", type=int, default=4, help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--dtype", default="float32", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker_decode(args) if args.worker == "decode" else worker_load(args)))
        return

    print(f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}")
    if not args.skip_decode:
        print(f"\nDecode {args.frames} frames at {args.size} (full-size VAE, random weights, float32, CPU)")
        rows = []
        for mb in args.micro_batches:
            r = run_worker("decode", "--mb", str(mb), "--frames", str(args.frames), "--size", args.size)
            rows.append((mb, r))
        ref_mb, ref = next(((m, r) for m, r in rows if m == 4), rows[0])
        ref_extra = ref["peak_mb"] - ref["rss_before_mb"]
        print(f"{'micro-batch':>11} {'seconds':>8} {'time ratio':>10} {'peak RSS MB':>11} {'decode extra MB':>15} {'mem ratio':>9}")
        for mb, r in rows:
            extra = r["peak_mb"] - r["rss_before_mb"]
            print(f"{mb or 'all':>11} {r['seconds']:8.1f} {r['seconds'] / ref['seconds']:10.2f} "
                  f"{r['peak_mb']:11.0f} {extra:15.0f} {extra / ref_extra:9.2f}")
        print(f"(ratios relative to micro-batch {ref_mb}, upstream's default; 'decode extra' = peak RSS minus "
              "RSS with the model loaded)")
    if not args.skip_load:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "model.safetensors"
            size = write_random_file(path, args.file_dtype)
            r = run_worker("load", "--path", str(path), "--dtype", args.file_dtype)
        mb = size / 2**20
        print(f"\nLoad a random full-size {args.file_dtype} VAE file of {mb:.0f} MB ({r['params']:,} values) "
              f"in {r['seconds']:.1f} s")
        print(f"peak RSS {r['peak_mb']:.0f} MB = {r['peak_mb'] / mb:.2f} x file size; above the pre-load baseline "
              f"({r['rss_before_mb']:.0f} MB: python + torch + diffusers): "
              f"{(r['peak_mb'] - r['rss_before_mb']) / mb:.2f} x file size")


if __name__ == "__main__":
    main()
