"""The CUDA paths in one short run, for the few minutes a GPU machine is lent (see docs/device_check.md).

Every check compares the accelerator against the CPU (or fp16/bf16 against fp32) in the same run and
prints one JSON line; a check that raises prints ``"ok": false`` with the error and the others go on.
The exit status is 1 when any check failed. Nothing is downloaded: the interpolation networks are
true-size with random weights, the video models are the test suite's tiny random ones.

    python benchmarks/device_check.py [--device cuda] [--only flow rife sgm fits cogvideox opensora]
        [--json FILE] [--quick]

``--device cpu`` runs the same code on the CPU (a dry run of the script itself; the comparisons are
then CPU against CPU). Checks:

* ``flow``: the optical-flow interpolator with its warps on the device against the CPU's OpenCV path
  (mean/max difference), ms per frame on both at 480x720 and 1080x1920, the output's device, and the
  device's peak memory streaming 16 against 64 frames through ``iter_interpolate`` (flat: ratio ~1).
* ``rife``: RIFE 4.25/4.26 (true size, random weights) fp32 on the device against fp32 on the CPU
  (relative error), fp16 and bf16 against fp32, ms per frame at 1080p and at 4K with ``scale="auto"``
  (0.5 there), peak memory; 4.7-4.9 with ``ensemble``.
* ``sgm``: SGM-VFI small (true size, random weights) on the device against the CPU, fp16/bf16, ms/pair.
* ``fits``: an interpolation whose output would not fit in the GPU's free memory is refused before
  anything is allocated (the frames are on the GPU, so the GPU's memory is what counts).
* ``cogvideox`` / ``opensora``: the tiny models through the Image to Video entry on the device in fp32
  (against the CPU's frames) and bf16, with each offload mode the family has (CogVideoX none / model /
  sequential, Open-Sora none / model): frames equal across modes, peak memory.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

from _pack import import_tests

HERE = Path(__file__).resolve().parent


def _sync(device) -> None:
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _peak_reset(device) -> None:
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def _peak_mb(device) -> float | None:
    import torch

    if torch.device(device).type == "cuda":
        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return None


def _timed(fn, device, repeats: int = 3):
    """Best seconds of ``fn()`` over ``repeats`` runs after one warm-up, and its last result."""
    out = fn()
    _sync(device)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return best, out


def _diff(x, ref) -> dict:
    d = (x.float().cpu() - ref.float().cpu()).abs()
    return {"mean_abs": float(d.mean()), "max_abs": float(d.max()),
            "rel": float(d.max() / max(1e-12, float(ref.float().abs().max())))}


def _pair_frames(h: int, w: int, seed: int = 0):
    """Two frames ``[1, H, W, 3]`` of the interpolation benchmark's scene (texture, a disc on a curve)."""
    sys.path.insert(0, str(HERE))
    from interpolation import frames

    it = frames(4, h, w)
    a = next(it)
    next(it)
    b = next(it)
    return a[None], b[None]


# ----------------------------------------------------------------------------- checks
def check_flow(device, quick: bool) -> dict:
    import torch

    from motioncomic.interpolation.clip import iter_interpolate
    from motioncomic.interpolation.flow import FlowInterpolator

    out: dict = {}
    cpu, dev = FlowInterpolator(device="cpu"), FlowInterpolator(device=device)
    for h, w in ((480, 720),) if quick else ((480, 720), (1080, 1920)):
        a, b = _pair_frames(h, w)
        t_cpu, ref = _timed(lambda: cpu.pair(a, b, 0.5), "cpu", 1 if quick else 2)
        da, db = a.to(device), b.to(device)
        t_dev, got = _timed(lambda: dev.pair(da, db, 0.5), device)
        out[f"{h}x{w}"] = {"ms_cpu": round(1000 * t_cpu, 1), "ms_device": round(1000 * t_dev, 1),
                           "speedup": round(t_cpu / t_dev, 2), "output_device": str(got.device),
                           **_diff(got, ref)}
        assert got.device.type == torch.device(device).type, "the output left the device"
    peaks = {}
    for n in (16, 64):
        _peak_reset(device)
        src = (f.to(device) for f in _frames_on(n, 270, 480))
        count = sum(1 for _ in iter_interpolate(src, dev, 2, total=n))
        peaks[n] = _peak_mb(device)
        assert count == 2 * n - 1
    out["stream_peak_mb"] = peaks
    if peaks[16]:
        out["stream_peak_ratio_64_vs_16"] = round(peaks[64] / peaks[16], 3)
    return out


def _frames_on(n: int, h: int, w: int):
    sys.path.insert(0, str(HERE))
    from interpolation import frames

    return frames(n, h, w)


def check_rife(device, quick: bool) -> dict:
    import torch

    from motioncomic.interpolation.rife.layouts import BY_LABEL
    from motioncomic.interpolation.rife.loader import RIFEInterpolator
    from motioncomic.interpolation.rife.network import IFNet

    def make(label, dtype, dev, **kw):
        torch.manual_seed(0)
        net = IFNet(BY_LABEL[label]).eval().requires_grad_(False)
        return RIFEInterpolator(net.to(device=dev, dtype=dtype), dtype, dev, **kw)

    out: dict = {}
    a, b = _pair_frames(256, 448)
    ref = make("4.25/4.26", torch.float32, "cpu").pair(a, b, 0.5)
    fp32 = make("4.25/4.26", torch.float32, device).pair(a.to(device), b.to(device), 0.5)
    out["fp32_vs_cpu"] = _diff(fp32, ref)
    for name, dt in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
        out[f"{name}_vs_fp32"] = _diff(make("4.25/4.26", dt, device).pair(a.to(device), b.to(device), 0.5), fp32)
    ens = make("4.7-4.9", torch.float32, device, ensemble=True).pair(a.to(device), b.to(device), 0.5)
    out["ensemble_vs_cpu"] = _diff(ens, make("4.7-4.9", torch.float32, "cpu", ensemble=True).pair(a, b, 0.5))
    sizes = ((540, 960),) if quick else ((1080, 1920), (2160, 3840))
    for h, w in sizes:
        a, b = (x.to(device) for x in _pair_frames(h, w))
        for name, dt in (("fp32", torch.float32),) if quick else (("fp16", torch.float16), ("fp32", torch.float32)):
            interp = make("4.25/4.26", dt, device, scale=None)  # auto: 0.5 above 1440p
            _peak_reset(device)
            t, got = _timed(lambda: interp.pair(a, b, 0.5), device)
            out[f"{h}x{w}_{name}"] = {"ms": round(1000 * t, 1), "peak_mb": _peak_mb(device),
                                      "finite": bool(torch.isfinite(got).all())}
    return out


def check_sgm(device, quick: bool) -> dict:
    import torch

    from motioncomic.interpolation.sgm_vfi.loader import SGMVFIInterpolator
    from motioncomic.interpolation.sgm_vfi.network import SMALL, SGMVFI

    def make(dtype, dev):
        torch.manual_seed(0)
        net = SGMVFI(SMALL).eval().requires_grad_(False).to(device=dev, dtype=dtype)
        return SGMVFIInterpolator(net, dtype, dev)

    a, b = _pair_frames(256, 384)
    ref = make(torch.float32, "cpu").pair(a, b, 0.5)
    da, db = a.to(device), b.to(device)
    out = {"fp32_vs_cpu": _diff(make(torch.float32, device).pair(da, db, 0.5), ref)}
    for name, dt in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
        out[f"{name}_vs_cpu"] = _diff(make(dt, device).pair(da, db, 0.5), ref)
    if not quick:
        a, b = (x.to(device) for x in _pair_frames(720, 1280))
        interp = make(torch.float16, device)
        _peak_reset(device)
        t, _ = _timed(lambda: interp.pair(a, b, 0.5), device, 2)
        out["720x1280_fp16"] = {"ms": round(1000 * t, 1), "peak_mb": _peak_mb(device)}
    return out


def check_fits(device, quick: bool) -> dict:
    import torch

    from motioncomic.errors import MotionComicError
    from motioncomic.interpolation.clip import interpolate

    dev = torch.device(device)
    if dev.type != "cuda":
        return {"skipped": "the GPU memory check needs a CUDA device"}
    free = torch.cuda.mem_get_info(dev)[0]
    h, w = 1080, 1920
    frame = h * w * 3 * 4
    n = max(2, int(0.04 * free / frame))  # the input takes 4% of the free memory
    mult = 16  # the output ~16x that: more than the half of free memory check_fits allows
    frames = torch.zeros(n, h, w, 3, device=dev)
    t = time.perf_counter()
    try:
        interpolate(frames, mult, method="crossfade")
    except MotionComicError as exc:
        return {"input_frames": n, "refused_in_s": round(time.perf_counter() - t, 3), "message": str(exc)[:200]}
    raise AssertionError(f"{n} frames x{mult} of {w}x{h} on {dev} were not refused")


def _i2v_runs(model_for, image, prompt: str, device, num_frames: int, steps: int, options=None,
              offloads=("none", "model", "sequential")) -> dict:
    from motioncomic.samplers.i2v import image_to_video

    def run(dev, dtype, offload):
        _peak_reset(dev)
        vm = model_for(dev, dtype, offload)
        t = time.perf_counter()
        frames = image_to_video(vm, image, prompt, num_frames=num_frames, steps=steps, seed=3,
                                options=dict(options or {})).frames
        _sync(dev)
        return frames, round(time.perf_counter() - t, 2), _peak_mb(dev)

    ref, t_cpu, _ = run("cpu", "fp32", "none")
    out: dict = {"seconds_cpu": t_cpu}
    first = None
    for offload in offloads:
        got, t, peak = run(device, "fp32", offload)
        first = got if first is None else first
        out[f"fp32_{offload}"] = {"seconds": t, "peak_mb": peak, **_diff(got, ref),
                                  "equal_to_offload_none": bool((got - first).abs().max() < 1e-5)}
    got, t, peak = run(device, "bf16", "none")
    out["bf16_none"] = {"seconds": t, "peak_mb": peak, **_diff(got, ref)}
    return out


def check_cogvideox(device, quick: bool) -> dict:
    import tempfile

    import torch

    import tiny_cogvideox as tc
    from motioncomic import host
    from motioncomic.loaders.cogvideox import load_cogvideox

    with tempfile.TemporaryDirectory() as d:
        models = Path(d) / "models"
        tc.install_for_workflows(models)
        host.set_models_dir(models)
        try:
            image = torch.rand(1, 64, 96, 3, generator=torch.Generator().manual_seed(0))
            return _i2v_runs(lambda dev, dt, off: load_cogvideox(tc.WORKFLOW_MODEL, device=dev, dtype=dt, offload=off),
                             image, "a girl waves", device, 9, 2)
        finally:
            host.set_models_dir(None)


def check_opensora(device, quick: bool) -> dict:
    import tempfile

    import torch

    import tiny_opensora as to
    from motioncomic import host
    from motioncomic.loaders.registry import load_video_model

    with tempfile.TemporaryDirectory() as d:
        models = Path(d) / "models"
        to.install_for_workflows(models)
        host.set_models_dir(models)
        folder = models / "opensora" / Path(to.WORKFLOW_STDIT).parent
        try:
            image = torch.rand(1, 180, 320, 3, generator=torch.Generator().manual_seed(0))
            return _i2v_runs(lambda dev, dt, off: load_video_model(folder, vae=to.WORKFLOW_VAE, t5=to.WORKFLOW_T5,
                                                                   device=dev, dtype=dt, offload=off),
                             image, "she waves", device, 17, 2, {"resolution": "144p"}, ("none", "model"))
        finally:
            host.set_models_dir(None)


CHECKS = {"flow": check_flow, "rife": check_rife, "sgm": check_sgm, "fits": check_fits,
          "cogvideox": check_cogvideox, "opensora": check_opensora}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--only", nargs="+", choices=list(CHECKS), default=list(CHECKS))
    ap.add_argument("--json", help="also write every result to this file")
    ap.add_argument("--quick", action="store_true", help="one size per check (a dry run on the CPU)")
    args = ap.parse_args()
    import_tests()
    import torch

    env = {"torch": torch.__version__, "device": args.device,
           "name": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"}
    print(json.dumps({"env": env}), flush=True)
    results, failed = {"env": env}, []
    for name in args.only:
        t = time.perf_counter()
        try:
            res = {"ok": True, **CHECKS[name](args.device, args.quick)}
        except Exception as exc:  # noqa: BLE001 - report and go on to the next check
            res = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()[-1500:]}
            failed.append(name)
        res["seconds"] = round(time.perf_counter() - t, 1)
        results[name] = res
        print(json.dumps({name: res}), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"device check on {env['name']}: {len(args.only) - len(failed)} of {len(args.only)} passed"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
