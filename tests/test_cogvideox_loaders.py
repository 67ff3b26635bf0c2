"""CogVideoX loaders: real layouts (folder, single files, ComfyUI T5 incl. fp8), variant detection,
and every bad input a user meets (missing parts, other family, truncated, pickle); T2V files load as T2V."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

import tiny_cogvideox as tc
from motioncomic import host
from motioncomic.errors import CheckpointError, MotionComicError, ModelNotFoundError
from motioncomic.loaders.cogvideox import load_cogvideox
from motioncomic.loaders.registry import detect_family, load_video_model
from motioncomic.loaders.t5 import load_t5_encoder


@pytest.fixture(scope="module")
def mdir(tmp_path_factory):
    """One models dir for the module: a 1.0 folder, single files of both variants, T5 files."""
    d = tmp_path_factory.mktemp("cog") / "models"
    tc.install_for_workflows(d)
    for v in ("1.0-i2v", "1.5-i2v", "1.0-t2v"):
        tc.write_transformer_file(d / "diffusion_models" / f"cog-{v}.safetensors", v)
    for v in ("1.0-i2v", "1.5-i2v"):
        tc.write_vae_file(d / "vae" / f"cogvae-{v}.safetensors", v)
    tc.write_t5_file(d / "text_encoders" / "t5xxl_fp16.safetensors")
    tc.write_t5_file(d / "text_encoders" / "t5xxl_fp8_e4m3fn.safetensors", fp8="e4m3fn")
    tc.write_t5_file(d / "text_encoders" / "t5xxl_fp8_e4m3fn_scaled.safetensors", fp8="scaled")
    tc.write_tokenizer(d / "text_encoders" / "t5_tokenizer")
    return d


@pytest.fixture
def models(mdir):
    host.set_models_dir(mdir)
    yield mdir
    host.set_models_dir(None)


def _same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k].float(), sb[k].float()) for k in sa)


def test_folder_loads_with_rules(models):
    vm = load_cogvideox(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32")
    assert (vm.family, vm.variant, vm.fps, vm.text_tokens) == ("cogvideox", "1.0-i2v", 8.0, tc.TEXT_TOKENS)
    assert vm.frame.kind == "fixed" and vm.frame.sizes == ((16, 16),)  # sample 2x2 latents x 8
    assert vm.frame_counts.valid_counts() == [9, 17, 25, 33, 41, 49]
    assert _same_weights(vm.components["transformer"], tc.build_transformer("1.0-i2v", 0))
    assert type(vm.components["tokenizer"]).__name__.startswith("T5Tokenizer")


@pytest.mark.parametrize("variant", ["1.0-i2v", "1.5-i2v"])
def test_single_file_transformer_variant_from_shapes(models, variant):
    vm = load_video_model(f"cog-{variant}.safetensors", device="cpu", dtype="fp32",
                          vae=f"cogvae-{variant}.safetensors", t5="t5xxl_fp16.safetensors")
    assert vm.variant == variant
    ref = tc.build_transformer(variant, 0)
    got = vm.components["transformer"]
    assert _same_weights(got, ref)
    for key in ("in_channels", "out_channels", "patch_size_t", "ofs_embed_dim", "num_attention_heads",
                "sample_height", "sample_width", "use_learned_positional_embeddings"):
        assert got.config[key] == ref.config[key], key
    if variant == "1.5-i2v":
        assert (vm.frame.kind, vm.frame.short, vm.frame.long_max, vm.fps, vm.text_tokens) == ("aspect_range", 768, 1360, 16.0, 224)
        assert vm.frame_counts.valid_counts() == [17, 33, 49, 65, 81]
        assert vm.components["vae"].config.invert_scale_latents is True
    else:
        assert got.config["max_text_seq_length"] == tc.TEXT_TOKENS  # from the position table's zero rows
    assert _same_weights(vm.components["vae"], tc.build_vae(variant, 1))


def test_t2v_transformer_loads_as_text_to_video(models):
    vm = load_cogvideox("cog-1.0-t2v.safetensors", vae="cogvae-1.0-i2v.safetensors", t5="t5xxl_fp16.safetensors",
                        device="cpu", dtype="fp32")
    assert (vm.variant, vm.task) == ("1.0-t2v", "t2v")
    assert vm.components["transformer"].config.in_channels == tc.LATENT_CHANNELS
    from motioncomic.samplers.i2v import image_to_video

    with pytest.raises(MotionComicError, match="text-to-video.*Text to Video node"):
        image_to_video(vm, torch.rand(1, 16, 16, 3), "she waves", num_frames=9, steps=1)


def test_fp16_refused_for_15(models):
    with pytest.raises(MotionComicError, match="fp16.*black"):
        load_cogvideox("cog-1.5-i2v.safetensors", vae="cogvae-1.5-i2v.safetensors", t5="t5xxl_fp16.safetensors",
                       dtype="fp16")


@pytest.mark.parametrize("name,tol", [("t5xxl_fp16.safetensors", 3e-3), ("t5xxl_fp8_e4m3fn.safetensors", 0.5),
                                      ("t5xxl_fp8_e4m3fn_scaled.safetensors", 0.5)])
def test_comfyui_t5_single_files(models, name, tol):
    enc, tok = load_t5_encoder(models / "text_encoders" / name, torch.float32)
    ref = tc.build_t5(2)
    ids = tok(["a girl waves her hand"], return_tensors="pt").input_ids
    want, got = ref(ids)[0], enc(ids)[0]
    err = (want - got).abs().max().item()
    assert err < tol
    assert enc.encoder.embed_tokens.weight is enc.shared.weight  # tied, stored once
    if "fp8" in name:  # really was quantised (else the scaled path would be a no-op)
        assert err > 1e-4


def test_missing_tokenizer_names_places(tmp_path):
    host.set_models_dir(tmp_path / "models")
    try:
        f = tc.write_t5_file(tmp_path / "models" / "text_encoders" / "t5xxl_fp16.safetensors")
        with pytest.raises(ModelNotFoundError, match="t5_tokenizer") as e:
            load_t5_encoder(f, torch.float32)
        assert "spiece.model" in str(e.value)
    finally:
        host.set_models_dir(None)


def test_missing_and_partial_folder(models):
    with pytest.raises(ModelNotFoundError, match="not found in models/CogVideo") as e:
        load_cogvideox("CogVideoX-does-not-exist")
    assert "THUDM/CogVideoX-5b-I2V" in str(e.value) and f"Available: {tc.WORKFLOW_MODEL}" in str(e.value)
    with pytest.raises(ModelNotFoundError, match=f"Did you mean '{tc.WORKFLOW_MODEL}'"):
        load_cogvideox(tc.WORKFLOW_MODEL.upper())  # a case typo
    part = models / "CogVideo" / "partial"
    shutil.copytree(models / "CogVideo" / tc.WORKFLOW_MODEL, part)
    try:
        (part / "vae" / "diffusion_pytorch_model.safetensors").unlink()
        shutil.rmtree(part / "tokenizer")
        with pytest.raises(ModelNotFoundError) as e:
            load_cogvideox("partial", device="cpu")
        msg = str(e.value)
        assert "vae/diffusion_pytorch_model.safetensors" in msg and "tokenizer/spiece.model" in msg
        assert "transformer/" not in msg.split("missing:")[1].split(". Download")[0]
        assert "huggingface.co/THUDM/CogVideoX-5b-I2V" in msg
    finally:
        shutil.rmtree(part)


def test_other_family_single_file_named(models, tmp_path):
    from safetensors.torch import save_file

    f = models / "diffusion_models" / "flux-like.safetensors"
    save_file({"double_blocks.0.img_attn.qkv.weight": torch.zeros(4, 4)}, str(f))
    try:
        with pytest.raises(CheckpointError, match="Flux transformer"):
            load_cogvideox("flux-like.safetensors", vae="cogvae-1.0-i2v.safetensors", t5="t5xxl_fp16.safetensors")
        with pytest.raises(CheckpointError, match="Flux transformer"):
            detect_family(f)
        with pytest.raises(CheckpointError, match="not a T5"):
            load_t5_encoder(models / "vae" / "cogvae-1.0-i2v.safetensors", torch.float32)
        with pytest.raises(CheckpointError, match="CogVideoX transformer"):  # a transformer given as VAE
            load_cogvideox("cog-1.0-i2v.safetensors", vae=models / "diffusion_models" / "cog-1.0-i2v.safetensors",
                           t5="t5xxl_fp16.safetensors")
    finally:
        f.unlink()


def test_truncated_safetensors(models):
    src = models / "diffusion_models" / "cog-1.0-i2v.safetensors"
    bad = models / "diffusion_models" / "truncated.safetensors"
    bad.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    try:
        with pytest.raises(CheckpointError, match="truncated"):
            load_cogvideox("truncated.safetensors", vae="cogvae-1.0-i2v.safetensors", t5="t5xxl_fp16.safetensors")
    finally:
        bad.unlink()


def test_pickle_only_weights_only(models, tmp_path):
    sd = tc.build_transformer("1.0-i2v", 0).state_dict()
    good = models / "diffusion_models" / "cog-pickle.pt"
    torch.save({"state_dict": {"module." + k: v for k, v in sd.items()}}, good)
    evil = models / "diffusion_models" / "cog-evil.pt"

    class Payload:  # arbitrary objects must never be unpickled
        def __reduce__(self):
            return (print, ("owned",))

    torch.save({"state_dict": sd, "extra": Payload()}, evil)
    try:
        vm = load_cogvideox("cog-pickle.pt", vae="cogvae-1.0-i2v.safetensors", t5="t5xxl_fp16.safetensors",
                            device="cpu", dtype="fp32")
        assert _same_weights(vm.components["transformer"], tc.build_transformer("1.0-i2v", 0))
        with pytest.raises(CheckpointError, match="weights_only=True"):
            load_cogvideox("cog-evil.pt", vae="cogvae-1.0-i2v.safetensors", t5="t5xxl_fp16.safetensors")
    finally:
        good.unlink()
        evil.unlink()


@pytest.mark.parametrize("mode", ["model", "sequential"])
def test_offload_modes_place_weights(models, mode):
    vm = load_cogvideox(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32", offload=mode)
    assert vm.offload == mode
    tr = vm.components["transformer"]
    if mode == "sequential":  # accelerate hooks on the modules
        assert hasattr(tr, "_hf_hook")
    assert all(p.device.type in ("cpu", "meta") for p in tr.parameters())


def test_registry_detects_and_dispatches(models):
    assert detect_family(models / "CogVideo" / tc.WORKFLOW_MODEL) == "cogvideox"
    assert detect_family(models / "diffusion_models" / "cog-1.5-i2v.safetensors") == "cogvideox"
    idx = json.loads((models / "CogVideo" / tc.WORKFLOW_MODEL / "model_index.json").read_text())
    assert idx["_class_name"] == "CogVideoXImageToVideoPipeline"
    with pytest.raises(MotionComicError, match="unknown"):
        load_video_model(tc.WORKFLOW_MODEL, family="sd15")


def test_variant_rules_from_config():
    from motioncomic.loaders.cogvideox_config import variant_of_config

    assert variant_of_config({"in_channels": 32, "out_channels": 16}) == "1.0-i2v"
    assert variant_of_config({"in_channels": 32, "out_channels": 16, "patch_size_t": 2}) == "1.5-i2v"
    assert variant_of_config({"in_channels": 16, "out_channels": 16, "patch_size_t": 2}) == "1.5-t2v"
    assert variant_of_config({"in_channels": 16, "out_channels": 16}) == "1.0-t2v"
    with pytest.raises(CheckpointError, match="33 input channels.*CogVideoX-Fun"):
        variant_of_config({"in_channels": 33, "out_channels": 16})
