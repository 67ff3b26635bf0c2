"""CogVideoX text to video: T2V checkpoints load (folders and single files), frames equal diffusers'
CogVideoXPipeline exactly (CPU float32), legal frame sizes, and each entry refuses the other kind
of model naming the node to use."""
from __future__ import annotations

import pytest
import torch

import tiny_cogvideox as tc
from motioncomic import host
from motioncomic.errors import MotionComicError
from motioncomic.loaders.cogvideox import load_cogvideox
from motioncomic.samplers import cogvideox as engine
from motioncomic.samplers.i2v import image_to_video
from motioncomic.samplers.t2v import legal_size, text_to_video

PROMPT = "a knight raises a sword, sparks fly"


@pytest.fixture(scope="module")
def mdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("t2v") / "models"
    tc.write_diffusers_folder(d / "CogVideo" / "CogVideoX-5b", "1.0-t2v")
    tc.write_diffusers_folder(d / "CogVideo" / "CogVideoX-2b", "1.0-t2v-2b")
    tc.write_diffusers_folder(d / "CogVideo" / "CogVideoX1.5-5B", "1.5-t2v", scheduler="dpm")
    tc.write_diffusers_folder(d / "CogVideo" / "CogVideoX-5b-I2V", "1.0-i2v")
    tc.write_transformer_file(d / "diffusion_models" / "cog-1.5-t2v.safetensors", "1.5-t2v")
    tc.write_vae_file(d / "vae" / "cogvae-1.5.safetensors", "1.5-t2v")
    tc.write_t5_file(d / "text_encoders" / "t5xxl_fp16.safetensors")
    tc.write_tokenizer(d / "text_encoders" / "t5_tokenizer")
    host.set_models_dir(d)
    yield d
    host.set_models_dir(None)


@pytest.fixture(scope="module")
def models(mdir):
    return {name: load_cogvideox(name, device="cpu", dtype="fp32")
            for name in ("CogVideoX-5b", "CogVideoX-2b", "CogVideoX1.5-5B")}


def _pipeline(vm, scheduler):
    from diffusers import CogVideoXPipeline

    c = vm.components
    pipe = CogVideoXPipeline(tokenizer=c["tokenizer"], text_encoder=c["text_encoder"], vae=c["vae"],
                             transformer=c["transformer"], scheduler=scheduler)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.mark.parametrize("name,frames,size,scheduler,dynamic", [
    ("CogVideoX-5b", 9, (16, 16), "DDIM", False), ("CogVideoX-2b", 17, (16, 16), "DPM", True),
    ("CogVideoX1.5-5B", 17, (16, 16), "DPM", True), ("CogVideoX1.5-5B", 33, (48, 32), "DDIM", False)])
def test_equals_diffusers_pipeline_exactly(models, name, frames, size, scheduler, dynamic):
    vm = models[name]
    assert vm.task == "t2v"
    ours = text_to_video(vm, PROMPT, "blurry", height=size[0], width=size[1], num_frames=frames, steps=3,
                         cfg=6.0, seed=7, options={"scheduler": scheduler, "dynamic_cfg": dynamic})
    pipe = _pipeline(vm, engine.make_scheduler(vm, scheduler))
    ref = pipe(prompt=PROMPT, negative_prompt="blurry", height=size[0], width=size[1], num_frames=frames,
               num_inference_steps=3, guidance_scale=6.0, use_dynamic_cfg=dynamic,
               generator=torch.Generator().manual_seed(7), output_type="pt",
               max_sequence_length=vm.text_tokens).frames[0].permute(0, 2, 3, 1)
    assert ours.frames.shape == (frames, *size, 3)
    assert torch.equal(ours.frames, ref)
    other = text_to_video(vm, PROMPT, height=size[0], width=size[1], num_frames=frames, steps=3, seed=8)
    assert not torch.equal(other.frames, ours.frames)


def test_variants_and_rules(models, mdir):
    assert models["CogVideoX-5b"].variant == "1.0-t2v"
    assert models["CogVideoX-2b"].components["transformer"].config.use_rotary_positional_embeddings is False
    assert models["CogVideoX1.5-5B"].variant == "1.5-t2v" and models["CogVideoX1.5-5B"].fps == 16.0
    single = load_cogvideox("cog-1.5-t2v.safetensors", vae="cogvae-1.5.safetensors", t5="t5xxl_fp16.safetensors",
                            device="cpu", dtype="fp32", tokenizer_dir=str(mdir / "text_encoders" / "t5_tokenizer"))
    assert (single.variant, single.task) == ("1.5-t2v", "t2v")
    assert single.components["transformer"].config.ofs_embed_dim is None
    res = text_to_video(single, PROMPT, height=16, width=16, num_frames=17, steps=2, seed=1)
    assert res.frames.shape == (17, 16, 16, 3) and res.fps == 16.0


def test_frame_sizes(models):
    fixed = models["CogVideoX-5b"].frame
    assert legal_size(fixed, 0, 0) == (16, 16)  # tiny native frame (real: 480x720)
    with pytest.raises(MotionComicError, match="only makes 16x16"):
        legal_size(fixed, 480, 720, "CogVideoX-5b")
    spec = models["CogVideoX1.5-5B"].frame
    assert legal_size(spec, 0, 0) == (768, 1360)
    assert legal_size(spec, 768, 1360) == (768, 1360) and legal_size(spec, 1360, 768) == (1360, 768)
    with pytest.raises(MotionComicError, match="multiples of 16.*Nearest valid: 1360x768"):
        legal_size(spec, 770, 1358)
    with pytest.raises(MotionComicError, match="long side may be at most"):
        legal_size(spec, 768, 1600)


def test_each_entry_names_the_node_to_use(models, mdir):
    with pytest.raises(MotionComicError, match="text-to-video model.*Text to Video node"):
        image_to_video(models["CogVideoX-5b"], torch.rand(1, 16, 16, 3), PROMPT, num_frames=9, steps=1)
    i2v = load_cogvideox("CogVideoX-5b-I2V", device="cpu", dtype="fp32")
    with pytest.raises(MotionComicError, match="image-to-video model.*Image to Video node"):
        text_to_video(i2v, PROMPT, num_frames=9, steps=1)
    with pytest.raises(MotionComicError, match="Nearest valid: 9"):
        text_to_video(models["CogVideoX-5b"], PROMPT, num_frames=10, steps=1)
