"""LoRA benchmarks on tiny CogVideoX models (CPU):

(a) sampling time with an unfused LoRA and a fused one, as ratios to the same run without LoRA;
(b) training: steps/s and peak memory of ``train_lora`` (after its cache is built);
(c) peak memory of caching latents + captions for 10 vs 100 clips (bounded: one clip at a time).

    OMP_NUM_THREADS=1 python benchmarks/lora.py              # all three
    OMP_NUM_THREADS=1 python benchmarks/lora.py --only c     # one of a / b / c

Memory is ``ru_maxrss`` at the end minus after imports and model load, each measurement in a
fresh child of this torch-free process (a forked child inherits the parent's high-water mark).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


def _setup(models: Path):
    sys.path.insert(0, str(TESTS))
    import conftest  # noqa: F401  (imports the pack as ``motioncomic``)
    import tiny_cogvideox as tc

    from motioncomic import host

    if not (models / "CogVideo" / tc.WORKFLOW_MODEL).exists():
        tc.install_for_workflows(models)
    host.set_models_dir(models)
    return tc


def _rss() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_sampling(models: Path, frames: int = 49, steps: int = 10, repeats: int = 7, rank: int = 64) -> dict:
    tc = _setup(models)
    import torch
    import tiny_lora as tl

    from motioncomic.loaders.cogvideox import load_cogvideox
    from motioncomic.loaders.lora import read_lora, with_lora
    from motioncomic.samplers.i2v import image_to_video

    vm = load_cogvideox(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32")
    path = tl.write_diffusers_lora(models / "loras" / "bench.safetensors",
                                   tl.random_layers(vm.components["transformer"], rank=rank), alpha=rank / 2)
    lora = read_lora(path)
    runs = {"none": vm, "unfused": with_lora(vm, lora, 1.0), "fused": with_lora(vm, lora, 1.0, fuse=True)}
    image = torch.rand(1, 16, 16, 3, generator=torch.Generator().manual_seed(0))
    times = {k: [] for k in runs}
    for _ in range(repeats):
        for name, m in runs.items():
            t = time.perf_counter()
            image_to_video(m, image, "a girl waves her hand", num_frames=frames, steps=steps, seed=1, framing="stretch")
            times[name].append(time.perf_counter() - t)
    best = {k: min(v) for k, v in times.items()}
    # the part a LoRA touches: one transformer forward over 49 frames (13 latent frames), many repeats
    from motioncomic.loaders.lora import lora_applied

    tr = vm.components["transformer"]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, (frames - 1) // 4 + 1, 8, 2, 2, generator=g)
    text = torch.randn(2, tc.TEXT_TOKENS, tc.T5_DIM, generator=g)
    fwd = {k: [] for k in runs}
    with torch.no_grad():
        for _ in range(5):
            for name, m in runs.items():
                with lora_applied(m, tr):
                    t = time.perf_counter()
                    for _ in range(20):
                        tr(hidden_states=x, encoder_hidden_states=text, timestep=torch.tensor([500, 500]),
                           return_dict=False)
                    fwd[name].append(time.perf_counter() - t)
    fb = {k: min(v) for k, v in fwd.items()}
    return {"sample_seconds_none": round(best["none"], 3),
            "sample_unfused_over_none": round(best["unfused"] / best["none"], 3),
            "sample_fused_over_none": round(best["fused"] / best["none"], 3),
            "transformer_unfused_over_none": round(fb["unfused"] / fb["none"], 3),
            "transformer_fused_over_none": round(fb["fused"] / fb["none"], 3),
            "frames": frames, "steps": steps, "rank": rank, "repeats": repeats}


def bench_training(models: Path, dataset: Path, steps: int = 20) -> dict:
    tc = _setup(models)
    from motioncomic.training.config import TrainConfig
    from motioncomic.training.train import train_lora

    out = dataset.parent / "train-out"
    cfg = TrainConfig(steps=1, rank=16, alpha=16, lr=1e-3, warmup=0, checkpoint_every=1000)
    train_lora(dataset, tc.WORKFLOW_MODEL, out, cfg, device="cpu", force=True)  # builds the cache, warms up
    base = _rss()
    marks = []
    cfg = TrainConfig(steps=steps + 1, rank=16, alpha=16, lr=1e-3, warmup=0, checkpoint_every=1000)
    train_lora(dataset, tc.WORKFLOW_MODEL, out, cfg, device="cpu", resume=True,
               on_step=lambda s: marks.append(time.perf_counter()))
    return {"steps_per_s": round((len(marks) - 1) / (marks[-1] - marks[0]), 2), "steps": steps,
            "peak_rss_mb_over_loaded": round(_rss() - base, 1), "peak_rss_mb": round(_rss(), 1)}


def bench_cache(models: Path, dataset: Path) -> dict:
    tc = _setup(models)
    from motioncomic.loaders.cogvideox import load_cogvideox
    from motioncomic.training.cache import build_cache
    from motioncomic.training.dataset import read_manifest

    vm = load_cogvideox(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32", offload="model")
    records = read_manifest(dataset)
    base = _rss()
    t = time.perf_counter()
    build_cache(vm, dataset, records, 9, dataset.parent / f"cache-{len(records)}", device="cpu")
    return {"clips": len(records), "peak_rss_mb_over_loaded": round(_rss() - base, 1),
            "seconds_per_clip": round((time.perf_counter() - t) / len(records), 3)}


def _child(what: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", what, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["a", "b", "c"])
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        what, *rest = args.child
        models = Path(rest[0])
        if what == "dataset":
            sys.path.insert(0, str(TESTS))
            import conftest  # noqa: F401
            import tiny_dataset as td

            td.write_dataset(Path(rest[1]), clips=int(rest[2]), frames=9, size=(16, 24))
            result = {"ok": True}
        elif what == "a":
            result = bench_sampling(models)
        elif what == "b":
            result = bench_training(models, Path(rest[1]))
        else:
            result = bench_cache(models, Path(rest[1]))
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as d:
        models = Path(d) / "models"
        results = {}
        if args.only in (None, "a"):
            results["a_sampling"] = _child("a", str(models))
        if args.only in (None, "b"):
            _child("dataset", str(models), f"{d}/ds4", "4")
            results["b_training"] = _child("b", str(models), f"{d}/ds4")
        if args.only in (None, "c"):
            for n in (10, 100):
                _child("dataset", str(models), f"{d}/ds{n}", str(n))
                results[f"c_cache_{n}"] = _child("c", str(models), f"{d}/ds{n}")
            results["c_ratio_100_over_10"] = round(
                max(results["c_cache_100"]["peak_rss_mb_over_loaded"], 0.1)
                / max(results["c_cache_10"]["peak_rss_mb_over_loaded"], 0.1), 2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
