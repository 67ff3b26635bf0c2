"""CogVideoX benchmarks: (a) our sampler vs diffusers' pipeline, (b) peak RAM while loading a big
single-file transformer, (c) peak RAM of VAE decoding with/without tiling at 2x and 4x native area.

    OMP_NUM_THREADS=1 python benchmarks/cogvideox.py            # all three
    OMP_NUM_THREADS=1 python benchmarks/cogvideox.py --only a   # one of a / b / c

Memory figures are measured in fresh subprocesses: ``ru_maxrss`` at the end minus ``ru_maxrss``
after imports (so the interpreter, torch and diffusers are not counted). Linux carries a parent's
RSS high-water mark into a forked child's ``ru_maxrss``, so every benchmark (and the writing of
the big file) runs in its own child of this lean, torch-free main process.
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
def bench_speed(frames: int = 49, steps: int = 10, repeats: int = 7) -> dict:
    import_tests()
    import torch
    from diffusers import CogVideoXImageToVideoPipeline

    import tiny_cogvideox as tc
    from motioncomic import host
    from motioncomic.loaders.cogvideox import load_cogvideox
    from motioncomic.samplers.cogvideox import make_scheduler
    from motioncomic.samplers.i2v import image_to_video

    with tempfile.TemporaryDirectory() as d:
        models = Path(d) / "models"
        tc.install_for_workflows(models)
        host.set_models_dir(models)
        vm = load_cogvideox(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32")
    c = vm.components
    pipe = CogVideoXImageToVideoPipeline(tokenizer=c["tokenizer"], text_encoder=c["text_encoder"], vae=c["vae"],
                                         transformer=c["transformer"], scheduler=make_scheduler(vm))
    pipe.set_progress_bar_config(disable=True)
    image = torch.rand(1, 16, 16, 3, generator=torch.Generator().manual_seed(0))
    prompt = "a girl waves her hand"

    def ours():
        return image_to_video(vm, image, prompt, num_frames=frames, steps=steps, cfg=6.0, seed=1,
                              framing="stretch").frames

    def theirs():
        return pipe(image=image.movedim(-1, 1), prompt=prompt, height=16, width=16, num_frames=frames,
                    num_inference_steps=steps, guidance_scale=6.0, generator=torch.Generator().manual_seed(1),
                    output_type="pt", max_sequence_length=vm.text_tokens).frames[0]

    t_ours, t_theirs, a, b = interleaved_best(ours, theirs, repeats)
    equal = torch.equal(a, b.permute(0, 2, 3, 1))
    return {"frames": frames, "steps": steps, "ours_s": t_ours, "diffusers_s": t_theirs,
            "ratio": t_ours / t_theirs, "identical_frames": equal}


# --------------------------------------------------------------------------- (b) loading RAM
BIG = dict(num_attention_heads=16, attention_head_dim=64, num_layers=10, time_embed_dim=512, text_embed_dim=4096)


def write_big_transformer(path: Path) -> int:
    """A random CogVideoX-1.5-I2V-shaped transformer (inner 1024, 10 layers) as fp32 safetensors."""
    import_tests()
    from diffusers import CogVideoXTransformer3DModel

    import tiny_cogvideox as tc

    cfg = {**tc.transformer_config("1.5-i2v"), **BIG, "ofs_embed_dim": 512, "in_channels": 32, "out_channels": 16}
    return write_random_safetensors(path, CogVideoXTransformer3DModel, cfg)


def _load_child(models: str) -> None:
    import_tests()
    import_heavy()
    from motioncomic import host
    from motioncomic.loaders.cogvideox import load_cogvideox

    host.set_models_dir(models)
    print_load_ram(lambda: load_cogvideox("big.safetensors", vae="tiny_vae.safetensors",
                                          t5="t5xxl_fp16.safetensors", device="cpu", dtype="fp32"))


def _write_child(models: str) -> None:
    import_tests()
    import tiny_cogvideox as tc

    models = Path(models)
    (models / "diffusion_models").mkdir(parents=True)
    write_big_transformer(models / "diffusion_models" / "big.safetensors")
    tc.write_vae_file(models / "vae" / "tiny_vae.safetensors", "1.5-i2v")
    tc.write_t5_file(models / "text_encoders" / "t5xxl_fp16.safetensors")
    tc.write_tokenizer(models / "text_encoders" / "t5_tokenizer")


def bench_load() -> dict:
    return single_file_load_ram(__file__, "big.safetensors")


# --------------------------------------------------------------------------- (c) decode RAM
def _decode_child(height: int, width: int, tiling: str, frames: int) -> None:
    import_tests()
    import torch

    import tiny_cogvideox as tc
    from motioncomic.loaders.video_model import FrameCounts, FrameSpec, VideoModel
    from motioncomic.samplers import cogvideox as engine

    vae = tc.build_vae("1.0-i2v", width=8)
    vae.config.sample_height, vae.config.sample_width = 480, 720  # real tiling defaults (tiles 240x360)
    vae.tile_sample_min_height, vae.tile_sample_min_width = 240, 360
    vae.tile_latent_min_height, vae.tile_latent_min_width = 30, 45
    vae.tile_overlap_factor_height, vae.tile_overlap_factor_width = 1 / 6, 1 / 5
    vm = VideoModel("cogvideox", "1.0-i2v", {"vae": vae}, torch.float32, torch.device("cpu"),
                    FrameSpec("fixed", sizes=((480, 720),)), FrameCounts(8, 1, 9, 49, 49), 226, 8.0)
    latents = torch.randn(1, (frames - 1) // 4 + 1, 4, height // 8, width // 8)
    print_decode(lambda tiling_, report: engine.decode(vm, latents, tiling_, report), tiling)


def bench_decode(frames: int = 9) -> list[dict]:
    rows = []
    for scale, (h, w) in (("1x", (480, 720)), ("2x", (672, 1024)), ("4x", (960, 1440))):
        for tiling in ("off", "auto"):
            r = child_json(__file__, "--child-decode", str(h), str(w), tiling, str(frames))
            rows.append({"area": scale, "size": f"{w}x{h}", "tiling": tiling, "tiled": r["tiled"],
                         "peak_mb": round(r["peak_mb"] - r["base_mb"], 1), "seconds": round(r["seconds"], 1)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["a", "b", "c"])
    ap.add_argument("--child-load")
    ap.add_argument("--child-write")
    ap.add_argument("--child-speed", action="store_true")
    ap.add_argument("--child-decode", nargs=4)
    args = ap.parse_args()
    if args.child_load:
        return _load_child(args.child_load)
    if args.child_write:
        return _write_child(args.child_write)
    if args.child_speed:
        return print(json.dumps(bench_speed()))
    if args.child_decode:
        h, w, tiling, frames = args.child_decode
        return _decode_child(int(h), int(w), tiling, int(frames))
    if args.only in (None, "a"):
        print("(a) sampler vs diffusers:", json.dumps(child_json(__file__, "--child-speed")))
    if args.only in (None, "b"):
        print("(b) single-file load RAM:", json.dumps(bench_load()))
    if args.only in (None, "c"):
        print("(c) VAE decode RAM (9 frames, VAE width 8):")
        for row in bench_decode():
            print("   ", json.dumps(row))


if __name__ == "__main__":
    main()
