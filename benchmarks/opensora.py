"""Open-Sora STDiT3 on CPU: forward time and memory (SDPA vs plain matmul-softmax attention), and
peak resident memory while loading a checkpoint as a multiple of its file size.

    OMP_NUM_THREADS=2 python benchmarks/opensora.py            # full XL/2, 144p x 51 frames (~5 min)
    python benchmarks/opensora.py --depth 4 --frames 17        # quick look

Each measurement runs in a fresh subprocess so peaks do not mix: the model is built on the meta
device, materialised with random weights (``to_empty`` + normal init), and one forward pass (batch
1, text mask, fps/height/width as the sampler passes them) is timed. Peak memory is the peak
resident set (sampled every 5 ms) above the resident set just before the forward. The loading
test writes a random-weight checkpoint (safetensors) and reports ``ru_maxrss`` of a process that
only loads it, relative to the file size (target <= 1.3).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from _pack import import_pack as _import_pack  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HEIGHT, WIDTH = 144, 256  # 144p 16:9 bucket: latent 18 x 32


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def build_random(depth: int, dtype):
    import torch

    from motioncomic.loaders.opensora.stdit3 import STDiT3, STDiT3Config

    with torch.device("meta"):
        model = STDiT3(STDiT3Config(depth=depth))
    model = model.to_empty(device="cpu")
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "rope.freqs":
                d = 2 * p.shape[0]
                p.copy_(1.0 / (10000 ** (torch.arange(0, d, 2).float() / d)))
            else:
                p.normal_(0, 0.02, generator=g)
        for b in model.buffers():
            b.normal_(0, 0.02, generator=g)
    return model.to(dtype).eval().requires_grad_(False)


def child_forward(args) -> dict:
    import torch

    _import_pack()
    from motioncomic.loaders.opensora import layers
    from motioncomic.loaders.opensora.aspect import latent_frames

    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    layers.set_attention(args.attention)
    model = build_random(args.depth, dtype)
    t = latent_frames(args.frames)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 4, t, HEIGHT // 8, WIDTH // 8, generator=g)
    y = torch.randn(1, 1, 300, 4096, generator=g)
    mask = torch.zeros(1, 300, dtype=torch.long)
    mask[:, :120] = 1
    kw = dict(fps=torch.tensor([24.0]), height=torch.tensor([float(HEIGHT)]), width=torch.tensor([float(WIDTH)]))
    x_mask = torch.ones(1, t, dtype=torch.bool)
    x_mask[:, 0] = False
    base = rss_bytes()
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.005)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    with torch.no_grad():
        out = model(x, torch.tensor([700.0]), y, mask=mask, x_mask=x_mask, **kw)
    secs = time.perf_counter() - t0
    stop.set()
    th.join()
    return dict(attention=args.attention, seconds=secs, peak_above_model_mb=(peak[0] - base) / 2**20,
                model_mb=sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20,
                tokens=t * (HEIGHT // 16) * (WIDTH // 16), finite=bool(torch.isfinite(out).all()))


def child_load(args) -> dict:
    import resource

    import torch

    _import_pack()
    from motioncomic.loaders.opensora import load_stdit

    torch.set_num_threads(args.threads)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start_rss = rss_bytes()
    t0 = time.perf_counter()
    model = load_stdit(args.path, dtype=getattr(torch, args.dtype))
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    size = os.path.getsize(args.path)
    n = sum(p.numel() for p in model.parameters())
    return dict(seconds=secs, file_mb=size / 2**20, peak_rss_mb=peak / 2**20, rss_before_mb=start_rss / 2**20,
                peak_over_file=peak / size, growth_over_file=(peak - max(before, start_rss)) / size, params=n)


def child_write(args) -> dict:
    """Write a random-weight checkpoint (in its own process: Linux carries ``ru_maxrss`` over fork
    + exec, so the parent must stay small for the loading child's peak to be its own)."""
    import torch
    from safetensors.torch import save_file

    _import_pack()
    model = build_random(args.depth, getattr(torch, args.dtype))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, args.path)
    return dict(path=args.path)


def run_child(kind: str, extra: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    if out.returncode != 0:
        raise SystemExit(f"{kind} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=28, help="blocks (28 = XL/2)")
    ap.add_argument("--frames", type=int, default=51, help="pixel frames (51 -> 15 latent frames)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "2")))
    ap.add_argument("--load-dtype", default="bfloat16", choices=["float32", "bfloat16"],
                    help="dtype of the checkpoint written for the loading test")
    ap.add_argument("--skip-forward", action="store_true")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--child", choices=["forward", "load", "write"], help=argparse.SUPPRESS)
    ap.add_argument("--attention", default="sdpa", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        fn = {"forward": child_forward, "load": child_load, "write": child_write}[args.child]
        print(json.dumps(fn(args)))
        return

    common = ["--depth", str(args.depth), "--frames", str(args.frames), "--threads", str(args.threads)]
    print(f"STDiT3 hidden 1152, depth {args.depth}, 16 heads; {HEIGHT}x{WIDTH} x {args.frames} frames; "
          f"{args.threads} threads; torch in {sys.executable}")
    if not args.skip_forward:
        res = {}
        for attn in ("sdpa", "matmul"):
            res[attn] = r = run_child("forward", common + ["--dtype", args.dtype, "--attention", attn])
            print(f"  forward {attn:6s} ({args.dtype}): {r['seconds']:7.2f} s, peak +{r['peak_above_model_mb']:7.0f} MB "
                  f"above the {r['model_mb']:.0f} MB model, {r['tokens']} tokens, finite={r['finite']}")
        print(f"  SDPA speed-up over matmul-softmax: {res['matmul']['seconds'] / res['sdpa']['seconds']:.2f}x, "
              f"memory ratio (sdpa/matmul): {res['sdpa']['peak_above_model_mb'] / max(res['matmul']['peak_above_model_mb'], 1):.2f}")
    if not args.skip_load:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "stdit3.safetensors"
            run_child("write", ["--path", str(path), "--depth", str(args.depth), "--dtype", args.load_dtype])
            r = run_child("load", ["--path", str(path), "--dtype", args.load_dtype, "--threads", str(args.threads)])
        print(f"  load {r['file_mb']:.0f} MB {args.load_dtype} safetensors ({r['params'] / 1e9:.2f} B params) in "
              f"{r['seconds']:.1f} s: peak RSS {r['peak_rss_mb']:.0f} MB = {r['peak_over_file']:.2f}x file size "
              f"(growth while loading {r['growth_over_file']:.2f}x; process before loading {r['rss_before_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
