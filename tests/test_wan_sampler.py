"""Wan sampling: exact equality with diffusers' WanImageToVideoPipeline (TI2V-5B and A14B style),
the expert switch, framing in the area rule, bad frame counts and images, cancel, VAE tiling and
the out-of-memory retry, offload."""
from __future__ import annotations

import pytest
import torch

import tiny_wan as tw
from oom_vae import oom_unless_tiled
from motioncomic import host
from motioncomic.errors import Cancelled, MotionComicError
from motioncomic.loaders.wan import load_wan
from motioncomic.samplers import wan as engine
from motioncomic.samplers.i2v import image_to_video

PROMPT = "a girl waves her hand"
NEG = "blurry, static"
FAST = dict(steps=2, cfg=5.0, seed=1)
FOLDERS = {"5b": "Wan2.2-TI2V-5B-Diffusers", "a14b": "Wan2.2-I2V-A14B-Diffusers"}
SIZE = {"5b": 32, "a14b": 16}  # the smallest legal frame of each tiny model


@pytest.fixture(scope="module")
def mdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("wans") / "models"
    tw.write_diffusers_folder(d / "diffusers" / FOLDERS["5b"], "ti2v-5b")
    tw.write_diffusers_folder(d / "diffusers" / FOLDERS["a14b"], "i2v-a14b")
    return d


@pytest.fixture(scope="module")
def models(mdir):
    host.set_models_dir(mdir)
    out = {k: load_wan(v, device="cpu", dtype="fp32") for k, v in FOLDERS.items()}
    yield out
    host.set_models_dir(None)


def _pipeline(vm, scheduler):
    from diffusers import WanImageToVideoPipeline

    c = vm.components
    pipe = WanImageToVideoPipeline(tokenizer=c["tokenizer"], text_encoder=c["text_encoder"], vae=c["vae"],
                                   scheduler=scheduler, transformer=c["transformer"], transformer_2=c["transformer_2"],
                                   boundary_ratio=c["defaults"]["boundary_ratio"],
                                   expand_timesteps=c["defaults"]["expand_timesteps"])
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.mark.parametrize("kind,frames,steps,cfg,cfg_2,scheduler", [
    ("5b", 9, 3, 5.0, None, "UniPC"), ("5b", 5, 2, 1.0, None, "Euler"),
    ("a14b", 9, 4, 3.5, 2.0, "UniPC"), ("a14b", 5, 3, 4.0, None, "UniPC")])
def test_equals_diffusers_pipeline_exactly(models, kind, frames, steps, cfg, cfg_2, scheduler):
    vm, size = models[kind], SIZE[kind]
    image = torch.rand(1, size, size, 3, generator=torch.Generator().manual_seed(5))
    options = {"scheduler": scheduler, "boundary_ratio": 0.75 if kind == "a14b" else None}
    if cfg_2 is not None:
        options["cfg_2"] = cfg_2
    ours = image_to_video(vm, image, PROMPT, NEG, num_frames=frames, steps=steps, cfg=cfg, seed=42,
                          framing="stretch", resolution=size, options=options)
    opts = engine.WanOptions.for_model(vm, steps, cfg, options)
    pipe = _pipeline(vm, engine.make_scheduler(vm, opts))
    if kind == "a14b":
        pipe.register_to_config(boundary_ratio=0.75)  # the steps cross it: both experts run
    ref = pipe(image=image.movedim(-1, 1), prompt=PROMPT, negative_prompt=NEG, height=size, width=size,
               num_frames=frames, num_inference_steps=steps, guidance_scale=cfg, guidance_scale_2=cfg_2,
               generator=torch.Generator().manual_seed(42), output_type="pt").frames[0].permute(0, 2, 3, 1)
    assert ours.frames.shape == (frames, size, size, 3)
    assert torch.equal(ours.frames, ref)
    assert ours.fps == (24.0 if kind == "5b" else 16.0)
    other = image_to_video(vm, image, PROMPT, NEG, num_frames=frames, steps=steps, cfg=cfg, seed=43,
                           framing="stretch", resolution=size, options=options)
    assert not torch.equal(other.frames, ours.frames)  # the seed matters


def test_expert_switch_at_boundary(models):
    vm = models["a14b"]
    calls = []
    hooks = [vm.components[n].register_forward_hook(lambda m, a, k, o, n=n: calls.append(n), with_kwargs=True)
             for n in ("transformer", "transformer_2")]
    try:
        res = image_to_video(vm, torch.rand(1, 16, 16, 3), PROMPT, num_frames=5, steps=4, cfg=1.0, seed=0,
                             resolution=16)
    finally:
        for h in hooks:
            h.remove()
    sched = engine.make_scheduler(vm, engine.WanOptions.for_model(vm, 4, 1.0, {}))
    sched.set_timesteps(4)
    high = int((sched.timesteps >= 900).sum())  # boundary 0.9 x 1000 train steps
    assert 0 < high < 4
    assert calls == ["transformer"] * high + ["transformer_2"] * (4 - high)  # cfg 1: one pass a step
    assert any(f"expert switch to low noise at step {high + 1}/4" in r for r in res.report)


def test_pad_framing_picks_the_area_frame_nearest_the_aspect(models):
    tall = torch.rand(1, 90, 40, 3)  # 4:9 portrait
    res = image_to_video(models["5b"], tall, PROMPT, num_frames=5, resolution=80, **FAST)
    assert res.plan.frame == (160, 64)  # of the 11,378-px area (80 -> 80x142), the frame that shows most
    assert res.frames.shape[1:3] == (res.plan.content.h, res.plan.content.w)
    assert abs(res.frames.shape[1] / res.frames.shape[2] - 90 / 40) < 0.35  # not stretched
    back = image_to_video(models["5b"], tall, PROMPT, num_frames=5, resolution=80, resize_back=True, **FAST)
    assert back.frames.shape == (5, 90, 40, 3)


@pytest.mark.parametrize("kind", ["5b", "a14b"])
def test_82_frames_names_81_and_85(models, kind):
    with pytest.raises(MotionComicError, match=r"82 frames.*4N\+1.*Nearest valid: 81 or 85"):
        image_to_video(models[kind], torch.rand(1, 32, 32, 3), PROMPT, num_frames=82, **FAST)


def test_image_smaller_than_the_smallest_frame(models):
    with pytest.raises(MotionComicError, match=r"image is 24x20 pixels, smaller than the smallest frame 32x32"):
        image_to_video(models["5b"], torch.rand(1, 20, 24, 3), PROMPT, num_frames=5, **FAST)
    res = image_to_video(models["a14b"], torch.rand(1, 20, 24, 3), PROMPT, num_frames=5, resolution=16, **FAST)
    assert res.frames.shape[0] == 5  # 16 px frames: the same image is fine for A14B


def test_long_prompt_truncation_is_reported(models):
    long = " ".join(["the girl waves her hand and smiles at the camera"] * 60)
    res = image_to_video(models["5b"], torch.rand(1, 32, 32, 3), long, num_frames=5, resolution=32, **FAST)
    line = next(r for r in res.report if r.startswith("prompt"))
    assert "TRUNCATED" in line and "reads 512" in line


def test_cancel_mid_sampling(models):
    calls = []

    def on_step(i, total):
        calls.append(i)
        if i == 1:
            host.request_cancel()

    with pytest.raises(Cancelled):
        image_to_video(models["a14b"], torch.rand(1, 16, 16, 3), PROMPT, num_frames=5, steps=4, seed=0,
                       resolution=16, options={"callback": on_step})
    assert calls == [1]


def test_vae_tiling_auto_and_oom_retry(models, monkeypatch):
    vm = models["a14b"]
    vae = vm.components["vae"]
    latents = torch.randn(1, 16, 2, 2, 2)
    plain = engine.decode(vm, latents, "off", [])
    real_decode = type(vae).decode
    seen = oom_unless_tiled(monkeypatch, vae)
    report: list[str] = []
    out = engine.decode(vm, latents, "auto", report)
    assert seen == [False, True] and "retried with tiling" in report[0]
    assert torch.allclose(out, plain, atol=1e-5)  # tiles never kick in at 16x16: same result
    assert vae.use_tiling is False
    with pytest.raises(torch.OutOfMemoryError):
        engine.decode(vm, latents, "off", [])
    monkeypatch.setattr(type(vae), "decode", real_decode)
    vae.enable_tiling(tile_sample_min_height=64, tile_sample_min_width=64, tile_sample_stride_height=48,
                      tile_sample_stride_width=48)  # small tiles (kept by our enable_tiling()) for a small test
    vae.disable_tiling()
    big = torch.randn(1, 16, 1, 12, 16)  # 96x128 pixels: several 64-px tiles
    report = []
    tiled = engine.decode(vm, big, "on", report)
    assert "VAE tiling: on" in report and tiled.shape == (1, 96, 128, 3)
    assert (tiled - engine.decode(vm, big, "off", [])).abs().mean() < 0.05  # tiles blend, no seams of noise


@pytest.mark.parametrize("mode", ["model", "sequential"])
def test_offload_gives_same_frames(mdir, models, mode):
    host.set_models_dir(mdir)
    vm = load_wan(FOLDERS["a14b"], device="cpu", dtype="fp32", offload=mode)
    img = torch.rand(1, 16, 16, 3, generator=torch.Generator().manual_seed(0))
    a = image_to_video(vm, img, PROMPT, num_frames=5, resolution=16, options={"boundary_ratio": 0.75}, **FAST)
    b = image_to_video(models["a14b"], img, PROMPT, num_frames=5, resolution=16, options={"boundary_ratio": 0.75},
                       **FAST)
    assert torch.equal(a.frames, b.frames)
