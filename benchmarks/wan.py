"""Wan benchmarks: (a) our sampler vs diffusers' WanImageToVideoPipeline on the same tiny
components (TI2V-5B and A14B style), (b) peak RAM while loading a >= 500 MB single-file Wan
transformer in ComfyUI's key layout, (c) peak RAM of Wan 2.2 VAE decoding with/without tiling at
1x and 2x the TI2V-5B area.

    OMP_NUM_THREADS=1 python benchmarks/wan.py            # all three
    OMP_NUM_THREADS=1 python benchmarks/wan.py --only a   # one of a / b / c

Memory figures come from fresh subprocesses: ``ru_maxrss`` at the end minus ``ru_maxrss`` after
imports. Linux carries a parent's RSS high-water mark into a forked child, so each measurement
(and the writing of the big file) runs in its own child of this lean, torch-free main process.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pack import (child_json, import_heavy, import_tests, interleaved_best, print_decode,  # noqa: E402
                   print_load_ram, single_file_load_ram, write_random_safetensors)


# --------------------------------------------------------------------------- (a) speed
def bench_speed(kind: str, frames: int = 17, steps: int = 8, repeats: int = 5) -> dict:
    import_tests()
    import torch
    from diffusers import WanImageToVideoPipeline

    import tiny_wan as tw
    from motioncomic import host
    from motioncomic.loaders.wan import load_wan
    from motioncomic.samplers import wan as engine
    from motioncomic.samplers.i2v import image_to_video

    variant, size = {"5b": ("ti2v-5b", 64), "a14b": ("i2v-a14b", 64)}[kind]
    with tempfile.TemporaryDirectory() as d:
        tw.write_diffusers_folder(Path(d) / "models" / "diffusers" / "wan", variant)
        host.set_models_dir(Path(d) / "models")
        vm = load_wan("wan", device="cpu", dtype="fp32")
    c = vm.components
    opts = engine.WanOptions.for_model(vm, steps, 5.0, {"boundary_ratio": 0.75} if kind == "a14b" else {})
    pipe = WanImageToVideoPipeline(tokenizer=c["tokenizer"], text_encoder=c["text_encoder"], vae=c["vae"],
                                   scheduler=engine.make_scheduler(vm, opts), transformer=c["transformer"],
                                   transformer_2=c["transformer_2"], boundary_ratio=opts.boundary_ratio,
                                   expand_timesteps=c["defaults"]["expand_timesteps"])
    pipe.set_progress_bar_config(disable=True)
    image = torch.rand(1, size, size, 3, generator=torch.Generator().manual_seed(0))
    prompt, neg = "a girl waves her hand", "blurry"
    options = {"boundary_ratio": opts.boundary_ratio}

    def ours():
        return image_to_video(vm, image, prompt, neg, num_frames=frames, steps=steps, cfg=5.0, seed=1,
                              framing="stretch", resolution=48, options=options).frames  # area 48x85 -> 64x64

    def theirs():
        return pipe(image=image.movedim(-1, 1), prompt=prompt, negative_prompt=neg, height=size, width=size,
                    num_frames=frames, num_inference_steps=steps, guidance_scale=5.0,
                    generator=torch.Generator().manual_seed(1), output_type="pt").frames[0]

    t_ours, t_theirs, a, b = interleaved_best(ours, theirs, repeats)
    return {"model": variant, "frames": frames, "size": f"{size}x{size}", "steps": steps,
            "ours_s": round(t_ours, 3), "diffusers_s": round(t_theirs, 3),
            "ratio": round(t_ours / t_theirs, 3), "identical_frames": torch.equal(a, b.permute(0, 2, 3, 1))}


# --------------------------------------------------------------------------- (b) loading RAM
#: TI2V-5B width (24 heads x 128, ffn 14336, umT5 width 4096) with 2 of its 30 layers: ~820 MB fp16.
BIG = dict(num_attention_heads=24, ffn_dim=14336, text_dim=4096, num_layers=2)


def write_big_transformer(path: Path) -> int:
    """A random TI2V-5B-width transformer in ComfyUI's original key layout, fp16, tensor by tensor."""
    import_tests()
    import torch
    from diffusers import WanTransformer3DModel

    import tiny_wan as tw

    return write_random_safetensors(path, WanTransformer3DModel, tw.transformer_config("ti2v-5b", **BIG),
                                    rename=tw.original_transformer_key, dtype=torch.float16)


def _load_child(models: str) -> None:
    import_tests()
    import_heavy()
    from motioncomic import host
    from motioncomic.loaders.wan import load_wan

    host.set_models_dir(models)
    print_load_ram(lambda: load_wan("big.safetensors", vae="wan2.2_vae.safetensors",
                                    text_encoder="umt5_xxl_fp16.safetensors", device="cpu", dtype="fp16"))


def _write_child(models: str) -> None:
    import_tests()
    import tiny_wan as tw

    models = Path(models)
    (models / "diffusion_models").mkdir(parents=True)
    write_big_transformer(models / "diffusion_models" / "big.safetensors")
    tw.write_vae_file(models / "vae" / "wan2.2_vae.safetensors", "2.2")
    tw.write_umt5_file(models / "text_encoders" / "umt5_xxl_fp16.safetensors")


def bench_load() -> dict:
    return single_file_load_ram(__file__, "big.safetensors")


# --------------------------------------------------------------------------- (c) decode RAM
def _decode_child(height: int, width: int, tiling: str, frames: int) -> None:
    import_tests()
    import torch

    import tiny_wan as tw
    from motioncomic.loaders.wan_config import rules_for
    from motioncomic.loaders.video_model import VideoModel
    from motioncomic.samplers import wan as engine

    vae = tw.build_vae("2.2")  # real tiling defaults: 256-px tiles, 192-px stride
    vm = VideoModel("wan", "ti2v-5b", {"vae": vae}, torch.float32, torch.device("cpu"), **rules_for("ti2v-5b", 16, 2))
    latents = torch.randn(1, 48, (frames - 1) // 4 + 1, height // 16, width // 16)
    print_decode(lambda tiling_, report: engine.decode(vm, latents, tiling_, report), tiling)


def bench_decode(frames: int = 5) -> list[dict]:
    rows = []
    for scale, (h, w) in (("1x", (704, 1280)), ("2x", (992, 1824))):
        for tiling in ("off", "on"):
            r = child_json(__file__, "--child-decode", str(h), str(w), tiling, str(frames))
            rows.append({"area": scale, "size": f"{w}x{h}", "frames": frames, "tiling": tiling, "tiled": r["tiled"],
                         "peak_mb": round(r["peak_mb"] - r["base_mb"], 1), "seconds": round(r["seconds"], 1)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["a", "b", "c"])
    ap.add_argument("--child-load")
    ap.add_argument("--child-write")
    ap.add_argument("--child-speed")
    ap.add_argument("--child-decode", nargs=4)
    args = ap.parse_args()
    if args.child_load:
        return _load_child(args.child_load)
    if args.child_write:
        return _write_child(args.child_write)
    if args.child_speed:
        return print(json.dumps(bench_speed(args.child_speed)))
    if args.child_decode:
        h, w, tiling, frames = args.child_decode
        return _decode_child(int(h), int(w), tiling, int(frames))
    if args.only in (None, "a"):
        for kind in ("5b", "a14b"):
            print("(a) sampler vs diffusers:", json.dumps(child_json(__file__, "--child-speed", kind)))
    if args.only in (None, "b"):
        print("(b) single-file load RAM:", json.dumps(bench_load()))
    if args.only in (None, "c"):
        print("(c) Wan 2.2 VAE decode RAM (tiny VAE widths 8/12, real tile sizes):")
        for row in bench_decode():
            print("   ", json.dumps(row))


if __name__ == "__main__":
    main()
