"""CogVideoX sampling: exact equality with diffusers' pipeline, framing, bad images and frame
counts, token truncation reported, cancel, VAE tiling, offload, and the nodes called directly."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tiny_cogvideox as tc
from oom_vae import oom_unless_tiled
from motioncomic import host
from motioncomic.errors import Cancelled, MotionComicError
from motioncomic.loaders.cogvideox import load_cogvideox
from motioncomic.samplers import cogvideox as engine
from motioncomic.samplers.i2v import image_to_video

PROMPT = "a girl waves her hand"
FAST = dict(steps=2, cfg=6.0, seed=1)


@pytest.fixture(scope="module")
def mdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cogs") / "models"
    tc.install_for_workflows(d)
    tc.write_diffusers_folder(d / "CogVideo" / "CogVideoX1.5-5B-I2V", "1.5-i2v", scheduler="dpm")
    return d


@pytest.fixture(scope="module")
def models(mdir):
    host.set_models_dir(mdir)
    out = {
        "1.0": load_cogvideox(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32"),
        "1.5": load_cogvideox("CogVideoX1.5-5B-I2V", device="cpu", dtype="fp32"),
    }
    yield out
    host.set_models_dir(None)


def _pipeline(vm, scheduler):
    from diffusers import CogVideoXImageToVideoPipeline

    c = vm.components
    pipe = CogVideoXImageToVideoPipeline(tokenizer=c["tokenizer"], text_encoder=c["text_encoder"], vae=c["vae"],
                                         transformer=c["transformer"], scheduler=scheduler)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.mark.parametrize("variant,frames,scheduler,dynamic", [
    ("1.0", 9, "DDIM", False), ("1.0", 17, "DPM", True), ("1.5", 17, "DPM", True), ("1.5", 17, "DDIM", False)])
def test_equals_diffusers_pipeline_exactly(models, variant, frames, scheduler, dynamic):
    vm = models[variant]
    image = torch.rand(1, 16, 16, 3, generator=torch.Generator().manual_seed(5))
    ours = image_to_video(vm, image, PROMPT, "blurry, jitter", num_frames=frames, steps=3, cfg=6.0, seed=42,
                          framing="stretch", resolution=16,
                          options={"scheduler": scheduler, "dynamic_cfg": dynamic})
    pipe = _pipeline(vm, engine.make_scheduler(vm, scheduler))
    ref = pipe(image=image.movedim(-1, 1), prompt=PROMPT, negative_prompt="blurry, jitter", height=16, width=16,
               num_frames=frames, num_inference_steps=3, guidance_scale=6.0, use_dynamic_cfg=dynamic,
               generator=torch.Generator().manual_seed(42), output_type="pt",
               max_sequence_length=vm.text_tokens).frames[0].permute(0, 2, 3, 1)
    assert ours.frames.shape == (frames, 16, 16, 3)
    assert torch.equal(ours.frames, ref)
    assert ours.fps == (8.0 if variant == "1.0" else 16.0)
    other = image_to_video(vm, image, PROMPT, num_frames=frames, steps=3, seed=43, framing="stretch", resolution=16)
    assert not torch.equal(other.frames, ours.frames)  # the seed matters


def test_pad_framing_crops_back_to_the_character(models):
    tall = torch.rand(1, 64, 24, 3)
    res = image_to_video(models["1.0"], tall, PROMPT, num_frames=9, **FAST)
    plan = res.plan
    assert plan.frame == (16, 16) and plan.content.h == 16 and plan.content.w == 6  # 24/64*16 = 6
    assert res.frames.shape == (9, 16, 6, 3)
    back = image_to_video(models["1.0"], tall, PROMPT, num_frames=9, resize_back=True, **FAST)
    assert back.frames.shape == (9, 64, 24, 3)
    assert any("framing pad" in r for r in res.report)


def test_15_frame_follows_image_aspect(models):
    wide = torch.rand(1, 30, 45, 3)
    res = image_to_video(models["1.5"], wide, PROMPT, num_frames=17, resolution=32, **FAST)
    assert res.plan.frame == (32, 48)  # short side 32, long side 1.5x (<= 1360/768 * 32)
    assert res.frames.shape == (17, 32, 48, 3)
    tall = torch.rand(1, 45, 30, 3)
    assert image_to_video(models["1.5"], tall, PROMPT, num_frames=17, resolution=32, **FAST).plan.frame == (48, 32)


def test_image_formats(models):
    vm = models["1.0"]
    rgba = torch.zeros(1, 32, 32, 4)
    rgba[..., 0] = 1.0  # red, fully transparent: becomes the border colour
    res = image_to_video(vm, rgba, PROMPT, num_frames=9, fill=(0.0, 1.0, 0.0), **FAST)
    assert any("alpha channel: composited over the border colour" in r for r in res.report)
    from motioncomic.samplers.i2v import prepare_image

    assert torch.equal(prepare_image(rgba, (0.0, 1.0, 0.0), [])[0, 0, 0], torch.tensor([0.0, 1.0, 0.0]))
    gray = torch.rand(1, 20, 20, 1)
    res = image_to_video(vm, gray, PROMPT, num_frames=9, **FAST)
    assert res.frames.shape[-1] == 3 and any("grayscale" in r for r in res.report)
    with pytest.raises(MotionComicError, match="1x1 pixels; it must be at least 16x16"):
        image_to_video(vm, torch.rand(1, 1, 1, 3), PROMPT, num_frames=9, **FAST)
    huge = torch.rand(1, 1, 1, 3).expand(1, 8000, 8000, 3)  # a broadcast view: no 768 MB in the test
    res = image_to_video(vm, huge, PROMPT, num_frames=9, **FAST)
    assert res.frames.shape == (9, 16, 16, 3)


@pytest.mark.parametrize("n,nearest", [(0, None), (2, "9"), (50, "49")])
def test_frame_counts(models, n, nearest):
    vm = models["1.0"]
    if n == 0:  # 0 means the model default (49), checked like any other count
        assert vm.frame_counts.default == 49
        return
    with pytest.raises(MotionComicError, match=rf"8N\+1.*Nearest valid: {nearest}"):
        image_to_video(vm, torch.rand(1, 16, 16, 3), PROMPT, num_frames=n, **FAST)
    with pytest.raises(MotionComicError, match=r"16N\+1.*Nearest valid: (17|49)"):
        image_to_video(models["1.5"], torch.rand(1, 16, 16, 3), PROMPT, num_frames=n, resolution=16, **FAST)


def test_zero_frames_through_the_node_means_default(models, monkeypatch):
    from motioncomic.loaders.video_model import FrameCounts

    vm = models["1.0"]
    monkeypatch.setattr(vm, "frame_counts", FrameCounts(step=8, offset=1, minimum=9, maximum=49, default=9))
    res = image_to_video(vm, torch.rand(1, 16, 16, 3), PROMPT, num_frames=0, **FAST)
    assert res.frames.shape[0] == 9


def test_long_prompt_truncation_is_reported(models):
    long = " ".join(["the girl waves her hand and smiles at the camera"] * 5)
    res = image_to_video(models["1.0"], torch.rand(1, 16, 16, 3), long, num_frames=9, **FAST)
    line = next(r for r in res.report if r.startswith("prompt"))
    assert "TRUNCATED" in line and f"reads {tc.TEXT_TOKENS}" in line and "dropped" in line


def test_cancel_mid_sampling(models):
    calls = []

    def on_step(i, total):
        calls.append(i)
        if i == 1:
            host.request_cancel()

    with pytest.raises(Cancelled):
        image_to_video(models["1.0"], torch.rand(1, 16, 16, 3), PROMPT, num_frames=9, steps=4, seed=0,
                       options={"callback": on_step})
    assert calls == [1]  # stopped at the first step, nothing decoded


def test_vae_tiling_auto_and_oom_retry(models, monkeypatch):
    vm = models["1.0"]
    vae = vm.components["vae"]
    latents = torch.randn(1, 3, 4, 2, 2)
    plain = engine.decode(vm, latents, "off", [])
    seen = oom_unless_tiled(monkeypatch, vae)
    report: list[str] = []
    out = engine.decode(vm, latents, "auto", report)
    assert seen == [False, True] and "retried with tiling" in report[0]
    assert torch.allclose(out, plain, atol=1e-5)  # tiles never kick in at 16x16: same result
    assert vae.use_tiling is False  # switched back off afterwards
    with pytest.raises(torch.OutOfMemoryError):
        engine.decode(vm, latents, "off", [])
    monkeypatch.setattr(engine, "TILING_AREA", 100)  # large frames tile from the start
    seen.clear()
    report = []
    engine.decode(vm, latents, "auto", report)
    assert seen == [True] and "VAE tiling: on" in report


@pytest.mark.parametrize("mode", ["model", "sequential"])
def test_offload_gives_same_frames(mdir, models, mode):
    host.set_models_dir(mdir)
    vm = load_cogvideox(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32", offload=mode)
    img = torch.rand(1, 16, 16, 3, generator=torch.Generator().manual_seed(0))
    a = image_to_video(vm, img, PROMPT, num_frames=9, **FAST)
    b = image_to_video(models["1.0"], img, PROMPT, num_frames=9, **FAST)
    assert torch.equal(a.frames, b.frames)


def test_nodes_called_directly(mdir, models, characters):
    import numpy as np
    from PIL import Image

    from motioncomic.nodes import NODE_CLASS_MAPPINGS as _NODES
    from motioncomic.samplers.framing import parse_color

    MotionComicImageToVideo, MotionComicLoadCogVideoX = (_NODES["MotionComicImageToVideo"],
                                                         _NODES["MotionComicLoadCogVideoX"])

    host.set_models_dir(mdir)
    spec = MotionComicLoadCogVideoX.INPUT_TYPES()["required"]
    assert tc.WORKFLOW_MODEL in spec["model"][0]
    (vm,) = MotionComicLoadCogVideoX().load(tc.WORKFLOW_MODEL, "(from model folder)", "(from model folder)",
                                            "bf16", "none")
    assert vm.dtype == torch.bfloat16
    pil = Image.open(characters / "game_character_fullbody.png").convert("RGBA")
    image = torch.from_numpy(np.asarray(pil, dtype=np.float32) / 255.0)[None]
    before = image.clone()
    frames, fps, report, _ = MotionComicImageToVideo().generate(
        vm, image, PROMPT, "", 9, 2, 6.0, 3, "pad", "#ffffff", 0, False, scheduler="DPM", dynamic_cfg=True)
    assert torch.equal(image, before)  # input untouched
    assert frames.dtype == torch.float32 and frames.shape[0] == 9 and fps == 8.0
    h, w = image.shape[1:3]
    assert abs(frames.shape[2] / frames.shape[1] - w / h) < 0.2 * w / h  # character not stretched
    assert "CogVideoXDPMScheduler" in report and "dynamic" in report
    assert parse_color("0,128,255") == (0.0, 128 / 255, 1.0)
    with pytest.raises(MotionComicError, match="not a colour"):
        parse_color("red")


def test_loader_node_defers_weights_until_the_sampler_checked_its_inputs(models_dir, characters):
    """A wrong frame count or a too-small image is reported before any weight is read."""
    import tiny_cogvideox as tc
    from PIL import Image

    from motioncomic.errors import MotionComicError
    from motioncomic.nodes import NODE_CLASS_MAPPINGS as _NODES

    MotionComicImageToVideo, MotionComicLoadCogVideoX = (_NODES["MotionComicImageToVideo"],
                                                         _NODES["MotionComicLoadCogVideoX"])

    tc.install_for_workflows(models_dir)
    (model,) = MotionComicLoadCogVideoX().load(tc.WORKFLOW_MODEL, "(from model folder)", "(from model folder)",
                                               "fp32", "none")
    assert not model.loaded and set(model.components) == {"tokenizer"}  # rules and tokenizer only
    assert model.frame_counts.is_valid(9)
    image = torch.from_numpy(np.asarray(Image.open(characters / "fairy_girl.png").convert("RGB"),
                                        dtype=np.float32) / 255)[None]
    node = MotionComicImageToVideo()
    with pytest.raises(MotionComicError, match="Nearest valid"):
        node.generate(model, image, "she waves", "", 10, 2, 6.0, 0, "pad", "#000000", 0, False)
    with pytest.raises(MotionComicError, match="at least 16x16"):
        node.generate(model, image[:, :8, :8], "she waves", "", 9, 2, 6.0, 0, "pad", "#000000", 0, False)
    with pytest.raises(MotionComicError, match="scheduler 'Heun' is unknown"):
        image_to_video(model, image[:, :64, :64], "she waves", num_frames=9, steps=2, options={"scheduler": "Heun"})
    assert not model.loaded  # still nothing read
    frames = node.generate(model, image[:, :64, :64], "she waves", "", 9, 2, 6.0, 0, "pad", "#000000", 0, False)[0]
    assert model.loaded and frames.shape[0] == 9 and "transformer" in model.components
