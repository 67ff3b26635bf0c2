"""MimicMotion benchmarks: (a) our sampler's overhead vs upstream's loop on the same tiny
components, (b) peak memory over 72 vs 288 driving frames, (c) filling skipped frames with the
flow interpolator vs generating every frame.

    OMP_NUM_THREADS=1 python benchmarks/mimicmotion.py             # all three
    OMP_NUM_THREADS=1 python benchmarks/mimicmotion.py --only a    # one of a / b / c
    ... --upstream /path/to/MimicMotion                            # (a) against upstream's own pipeline

Upstream's pipeline is not importable without its code (which this repository does not carry):
by default (a) runs upstream's loop re-expressed here with diffusers' SVD pipeline methods
(``_encode_image``, ``_encode_vae_image``, ``_get_add_time_ids``, ``decode_latents``) plus the
PoseNet added to ``conv_in`` - the same tiles, fusion, guidance and scheduler calls as
``MimicMotionPipeline.__call__``. With ``--upstream`` a checkout of Tencent/MimicMotion is imported
instead. Memory runs in fresh subprocesses (``ru_maxrss`` after minus before sampling).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _pack import ROOT, peak_rss_mb

TESTS = ROOT / "tests"


def _imports() -> None:
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import conftest  # noqa: F401  (imports the pack as ``motioncomic``)


def _setup(models: Path):
    _imports()
    import torch

    import tiny_mimicmotion as tm
    from motioncomic import host
    from motioncomic.loaders.mimicmotion import load_mimicmotion

    torch.set_num_threads(1)  # CPU-time figures assume one thread
    tm.install_for_workflows(models)
    host.set_models_dir(models)
    return load_mimicmotion(tm.WORKFLOW_MODEL, device="cpu", dtype="fp32")


def reproduced_upstream(vm, image_pil, image_pose, n, tile, overlap, steps, cfg, seed):
    """Upstream's ``MimicMotionPipeline.__call__`` loop (CPU, batch 1, fps 7, no augmentation)."""
    import torch
    from diffusers import StableVideoDiffusionPipeline

    from motioncomic.loaders.posenet import add_pose_to_conv_in
    from motioncomic.samplers.svd import make_scheduler

    c = vm.components
    pipe = StableVideoDiffusionPipeline(vae=c["vae"], image_encoder=c["image_encoder"], unet=c["unet"],
                                        scheduler=make_scheduler(vm), feature_extractor=c["feature_extractor"])
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        emb = pipe._encode_image(image_pil, "cpu", 1, True)
        img = pipe.video_processor.preprocess(image_pil, height=image_pose.shape[-2], width=image_pose.shape[-1])
        img = img + 0.0 * torch.randn(img.shape, generator=g)
        lat = pipe._encode_vae_image(img, "cpu", 1, True).to(emb.dtype).unsqueeze(1).repeat(1, n, 1, 1, 1)
        ids = pipe._get_add_time_ids(6, 127, 0.0, emb.dtype, 1, 1, True)
        sched = pipe.scheduler
        sched.set_timesteps(steps)
        x = torch.randn((1, tile, 4, *lat.shape[-2:]), generator=g) * sched.init_noise_sigma
        x = x.repeat(1, n // tile + 1, 1, 1, 1)[:, :n]
        gs = torch.linspace(cfg, cfg, n)[None, :, None, None, None]
        idxs = [[0, *range(i + 1, min(i + tile, n))] for i in range(0, n - tile + 1, tile - overlap)]
        if idxs[-1][-1] < n - 1:
            idxs.append([0, *range(n - tile + 1, n)])
        w = (torch.arange(tile) + 0.5) * 2.0 / tile
        w = torch.minimum(w, 2 - w)
        for t in sched.timesteps:
            inp = torch.cat([sched.scale_model_input(torch.cat([x] * 2), t), lat], dim=2)
            pred = torch.zeros_like(lat)
            cnt = lat.new_zeros((n,))
            for idx in idxs:
                pose = c["pose_net"](image_pose[idx])
                pred[:1, idx] += c["unet"](inp[:1, idx], t, encoder_hidden_states=emb[:1], added_time_ids=ids[:1],
                                           return_dict=False)[0] * w[:, None, None, None]
                with add_pose_to_conv_in(c["unet"], pose):
                    pred[1:, idx] += c["unet"](inp[1:, idx], t, encoder_hidden_states=emb[1:], added_time_ids=ids[1:],
                                               return_dict=False)[0] * w[:, None, None, None]
                cnt[idx] += w
            pred.div_(cnt[:, None, None, None])
            u, co = pred.chunk(2)
            x = sched.step(u + gs * (co - u), t, x, generator=g, return_dict=False)[0]
        return pipe.video_processor.postprocess_video(video=pipe.decode_latents(x, n, 8), output_type="pt")


def bench_speed(upstream: str | None, n: int = 17, tile: int = 8, overlap: int = 2, steps: int = 4, repeats: int = 5):
    _imports()
    import numpy as np
    import torch
    from PIL import Image

    import tiny_mimicmotion as tm
    from motioncomic.samplers.mimicmotion import pose_to_video

    with tempfile.TemporaryDirectory() as d:
        vm = _setup(Path(d) / "models")
    h, w = 64, 96
    ref = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    poses = tm.pose_images(n, h, w)
    image_pose = poses.movedim(-1, 1) * 2 - 1
    opts = dict(cfg=2.0, tile_frames=tile, tile_overlap=overlap, sample_stride=1, noise_aug_strength=0.0)
    if upstream:  # upstream's pipeline calls its own UNet class with pose_latents=: same weights, loaded into it
        sys.path.insert(0, upstream)
        from mimicmotion.modules.unet import UNetSpatioTemporalConditionModel
        from mimicmotion.pipelines.pipeline_mimicmotion import MimicMotionPipeline

        from motioncomic.samplers.svd import make_scheduler

        c = vm.components
        up_unet = UNetSpatioTemporalConditionModel.from_config(c["unet"].config).eval()
        up_unet.load_state_dict(c["unet"].state_dict())
        up = MimicMotionPipeline(vae=c["vae"], image_encoder=c["image_encoder"], unet=up_unet,
                                 scheduler=make_scheduler(vm), feature_extractor=c["feature_extractor"],
                                 pose_net=c["pose_net"])
        up.set_progress_bar_config(disable=True)

        def theirs():
            out = up(Image.fromarray(ref), image_pose=image_pose, num_frames=n, tile_size=tile, tile_overlap=overlap,
                     height=h, width=w, fps=7, noise_aug_strength=0.0, num_inference_steps=steps,
                     generator=torch.Generator().manual_seed(1), min_guidance_scale=2.0, max_guidance_scale=2.0,
                     decode_chunk_size=8, output_type="pt", device="cpu").frames
            return out[0, 1:].permute(0, 2, 3, 1)
    else:
        def theirs():
            out = reproduced_upstream(vm, Image.fromarray(ref), image_pose, n, tile, overlap, steps, 2.0, 1)
            return out[0, 1:].permute(0, 2, 3, 1)

    def ours():
        return pose_to_video(vm, torch.from_numpy(ref)[None].float() / 255, poses[1:], reference_pose=poses[:1],
                             resolution=h, seed=1, steps=steps, options=opts).frames

    ours(), theirs()
    t_ours, t_theirs = [], []
    for _ in range(repeats):  # interleaved so machine load affects both alike; CPU time of this process
        t = time.process_time(); a = ours(); t_ours.append(time.process_time() - t)  # (1 thread: not
        t = time.process_time(); b = theirs(); t_theirs.append(time.process_time() - t)  # other jobs' time)
    diff = (a - b).abs().max().item()
    return {"frames": n, "tile": tile, "steps": steps, "ours_cpu_s": round(min(t_ours), 3),
            "baseline": "upstream pipeline" if upstream else "upstream loop re-expressed on diffusers",
            "baseline_cpu_s": round(min(t_theirs), 3), "ratio": round(min(t_ours) / min(t_theirs), 3),
            "max_abs_diff": diff}


def _memory_child(models: str, n: int, h: int, w: int) -> None:
    vm = _setup(Path(models))
    import torch

    import tiny_mimicmotion as tm
    from motioncomic.samplers.mimicmotion import pose_to_video

    poses = tm.pose_images(n, h, w)
    ref = torch.rand(1, h, w, 3)
    base = peak_rss_mb()
    res = pose_to_video(vm, ref, poses, reference_pose=poses[:1], resolution=min(h, w), steps=1,
                        options=dict(tile_frames=16, tile_overlap=4, sample_stride=2))
    out_mb = res.frames.numel() * 4 / 2**20
    print(json.dumps({"peak_minus_base_mb": peak_rss_mb() - base, "output_mb": out_mb}))


def bench_memory(h: int = 128, w: int = 192) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for n in (72, 288):
            out = subprocess.run([sys.executable, __file__, "--child-memory", d, str(n), str(h), str(w)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append({"driving_frames": n, "size": f"{w}x{h}", "peak_mb": round(r["peak_minus_base_mb"], 1),
                         "output_mb": round(r["output_mb"], 1),
                         "working_mb": round(r["peak_minus_base_mb"] - r["output_mb"], 1)})
    return rows


def bench_fill(n: int = 17) -> dict:
    """Stride 2 + flow fill vs stride 1 on the tiny model, and the flow interpolator at 576x1024."""
    _imports()
    import torch

    import tiny_mimicmotion as tm
    from motioncomic.interpolation import interpolate
    from motioncomic.samplers.mimicmotion import pose_to_video

    with tempfile.TemporaryDirectory() as d:
        vm = _setup(Path(d) / "models")
    poses = tm.pose_images(n, 64, 96)
    ref = torch.rand(1, 64, 96, 3)
    times = {}
    for stride in (1, 2):
        t = time.perf_counter()
        pose_to_video(vm, ref, poses, reference_pose=poses[:1], resolution=64, steps=4,
                      options=dict(tile_frames=8, tile_overlap=2, sample_stride=stride))
        times[stride] = time.perf_counter() - t
    a, b = torch.rand(1, 576, 1024, 3), torch.rand(1, 576, 1024, 3)
    t = time.perf_counter()
    interpolate(torch.cat([a, b]), 2, method="flow")
    flow_s = time.perf_counter() - t
    return {"tiny_stride1_s": round(times[1], 2), "tiny_stride2_flow_s": round(times[2], 2),
            "ratio_stride2_to_stride1": round(times[2] / times[1], 3), "flow_576x1024_s_per_frame": round(flow_s, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["a", "b", "c"])
    ap.add_argument("--upstream", help="a Tencent/MimicMotion checkout to import for (a)")
    ap.add_argument("--child-memory", nargs=4)
    args = ap.parse_args()
    if args.child_memory:
        d, n, h, w = args.child_memory
        return _memory_child(d, int(n), int(h), int(w))
    if args.only in (None, "a"):
        print("(a) sampler overhead:", json.dumps(bench_speed(args.upstream)))
    if args.only in (None, "b"):
        for row in bench_memory():
            print("(b) memory:", json.dumps(row))
    if args.only in (None, "c"):
        with tempfile.TemporaryDirectory():
            print("(c) fill vs generate all:", json.dumps(bench_fill()))


if __name__ == "__main__":
    main()
