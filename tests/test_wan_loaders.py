"""Wan loaders: diffusers folders and ComfyUI single files (fp16, scaled fp8, prefixed), variant
from shapes, the upstream key layout, umT5 with and without its tokenizer, and every bad input
the issue lists (T2V as I2V, one A14B expert, no tokenizer, wrong VAE generation)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

import tiny_wan as tw
from motioncomic import host
from motioncomic.errors import CheckpointError, ModelNotFoundError
from motioncomic.loaders import wan_keys
from motioncomic.loaders.registry import detect_family, load_video_model
from motioncomic.loaders.umt5 import load_umt5_encoder
from motioncomic.loaders.wan import load_wan

LAYOUT = json.loads((Path(__file__).parent / "data" / "wan" / "comfy_layout.json").read_text())
DF = "diffusion_models"


@pytest.fixture(scope="module")
def mdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("wan") / "models"
    tw.install_for_workflows(d)  # TI2V-5B single files under ComfyUI's names
    tw.write_diffusers_folder(d / "diffusers" / "Wan2.2-TI2V-5B-Diffusers", "ti2v-5b")
    tw.write_diffusers_folder(d / "diffusers" / "Wan2.2-I2V-A14B-Diffusers", "i2v-a14b")
    tw.write_transformer_file(d / DF / "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors", "i2v-a14b", 0,
                              fp8="scaled", prefix="model.diffusion_model.")
    tw.write_transformer_file(d / DF / "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors", "i2v-a14b", 1, fp8="scaled")
    tw.write_transformer_file(d / DF / "wan2.1_t2v_1.3B_fp16.safetensors", "t2v", 3)
    tw.write_vae_file(d / "vae" / "wan_2.1_vae.safetensors", "2.1")
    tw.write_umt5_file(d / "text_encoders" / "umt5_xxl_fp8_e4m3fn_scaled.safetensors", fp8="scaled")
    return d


@pytest.fixture
def models(mdir):
    host.set_models_dir(mdir)
    yield mdir
    host.set_models_dir(None)


def _max_diff(a, b) -> float:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    return max((sa[k].float() - sb[k].float()).abs().max().item() for k in sa)


def test_writers_produce_comfyuis_key_layout():
    """Our original-layout writers give exactly the key names/shapes of ComfyUI's comfy/ldm/wan modules
    (tests/data/wan/comfy_layout.json, listed from them on the same tiny configs), and the loader's
    renaming undoes them."""
    for name, variant in (("ti2v", "ti2v-5b"), ("i2v_a14b", "i2v-a14b")):
        model = tw.build_transformer(variant)
        sd = tw.transformer_original_state_dict(model)
        assert {k: list(v.shape) for k, v in sd.items()} == LAYOUT[name]
        assert all(wan_keys.transformer_key(tw.original_transformer_key(k)) == k for k in model.state_dict())
    for name, gen in (("vae21", "2.1"), ("vae22", "2.2")):
        sd = tw.build_vae(gen).state_dict()
        orig = {tw.original_vae_key(k, gen): list(v.shape) for k, v in sd.items()}
        assert orig == LAYOUT[name]
        rename = wan_keys.vae_key_map(orig)
        assert {rename(k) for k in orig} == set(sd)
    # the Wan 2.1 I2V image-embedder names map onto diffusers' too (refused later, but recognised)
    assert wan_keys.transformer_key("blocks.3.cross_attn.k_img.weight") == "blocks.3.attn2.add_k_proj.weight"
    assert wan_keys.transformer_key("img_emb.proj.1.bias") == "condition_embedder.image_embedder.ff.net.0.proj.bias"


@pytest.mark.parametrize("folder,variant,fps,frames,multiple", [
    ("Wan2.2-TI2V-5B-Diffusers", "ti2v-5b", 24.0, 121, 32), ("Wan2.2-I2V-A14B-Diffusers", "i2v-a14b", 16.0, 81, 16)])
def test_folders_load_with_rules(models, folder, variant, fps, frames, multiple):
    vm = load_video_model(folder, device="cpu", dtype="fp32")
    assert (vm.family, vm.variant, vm.fps, vm.text_tokens) == ("wan", variant, fps, 512)
    assert vm.frame.kind == "area" and vm.frame.multiple == multiple
    assert vm.frame_counts.default == frames and vm.frame_counts.nearest(82) == [81, 85]
    assert _max_diff(vm.components["transformer"], tw.build_transformer(variant, 0)) == 0
    c = vm.components
    if variant == "i2v-a14b":
        assert _max_diff(c["transformer_2"], tw.build_transformer(variant, 1)) == 0
        assert c["defaults"]["boundary_ratio"] == 0.9 and c["vae"].config.z_dim == 16
    else:
        assert c["transformer_2"] is None and c["defaults"]["expand_timesteps"] is True and c["vae"].config.z_dim == 48
    assert c["scheduler_config"]["_class_name"] == "UniPCMultistepScheduler"


def test_comfyui_single_files_5b(models):
    """wan2.2_ti2v_5B_fp16 + wan2.2_vae + umt5_xxl_fp16 (tokenizer inside) -> the same model."""
    f = tw.WORKFLOW_FILES
    assert detect_family(models / DF / f["model"]) == "wan"
    vm = load_video_model(f["model"], vae=f["vae"], text_encoder=f["text_encoder"], device="cpu", dtype="fp32")
    assert vm.variant == "ti2v-5b" and vm.fps == 24.0
    ref = tw.build_transformer("ti2v-5b", 0, **tw.WORKFLOW_TRANSFORMER)
    for key in ("in_channels", "out_channels", "num_attention_heads", "attention_head_dim", "ffn_dim", "num_layers",
                "text_dim", "patch_size"):
        assert vm.components["transformer"].config[key] == ref.config[key], key
    assert _max_diff(vm.components["transformer"], ref.half()) == 0  # fp16 file, exact
    vae_ref = tw.build_vae("2.2", 1, tw.WORKFLOW_VAE_BASE)
    for key in ("base_dim", "decoder_base_dim", "z_dim", "dim_mult", "num_res_blocks", "temperal_downsample",
                "is_residual", "patch_size", "scale_factor_spatial", "latents_mean", "latents_std"):
        assert vm.components["vae"].config[key] == vae_ref.config[key], key
    assert _max_diff(vm.components["vae"], vae_ref) == 0


def test_comfyui_scaled_fp8_a14b_pair(models):
    vm = load_wan("wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors",
                  model_2="wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors", vae="wan_2.1_vae.safetensors",
                  text_encoder="umt5_xxl_fp8_e4m3fn_scaled.safetensors", device="cpu", dtype="fp32")
    assert vm.variant == "i2v-a14b" and vm.components["defaults"]["boundary_ratio"] == 0.9
    for key, seed in (("transformer", 0), ("transformer_2", 1)):
        err = _max_diff(vm.components[key], tw.build_transformer("i2v-a14b", seed))
        assert 1e-5 < err < 0.05  # really quantised, and the scales were applied (else errors ~1)
    assert vm.components["transformer"].dtype == torch.float32


@pytest.mark.parametrize("name,fp8", [("umt5_xxl_fp16.safetensors", None), ("umt5_xxl_fp8_e4m3fn_scaled.safetensors", "scaled")])
def test_umt5_single_files_and_embedded_tokenizer(models, name, fp8):
    enc, tok = load_umt5_encoder(models / "text_encoders" / name, torch.float32)
    folder_tok = tw.tc.load_tokenizer(models / "diffusers" / "Wan2.2-TI2V-5B-Diffusers" / "tokenizer")
    text = "a girl waves her hand and smiles"
    ids = tok([text], return_tensors="pt").input_ids
    assert ids.tolist() == folder_tok([text], return_tensors="pt").input_ids.tolist()
    ref = tw.build_umt5(2)
    err = (ref(ids).last_hidden_state - enc(ids).last_hidden_state).abs().max().item()
    assert err < (0.5 if fp8 else 5e-3)
    if fp8:
        assert err > 1e-4
    assert enc.encoder.embed_tokens.weight is enc.shared.weight


def test_umt5_without_tokenizer_says_where_it_goes(tmp_path):
    host.set_models_dir(tmp_path / "models")
    try:
        f = tw.write_umt5_file(tmp_path / "models" / "text_encoders" / "umt5_other.safetensors", tokenizer=False)
        with pytest.raises(ModelNotFoundError, match="umt5_tokenizer") as e:
            load_umt5_encoder(f, torch.float32)
        assert "spiece.model" in str(e.value) and "Looked in" in str(e.value)
        tw.write_tokenizer(tmp_path / "models" / "text_encoders" / "umt5_tokenizer")
        _, tok = load_umt5_encoder(f, torch.float32)  # where the message said: found
        assert tok("a girl").input_ids[-1] == 1
    finally:
        host.set_models_dir(None)


def test_t5_file_is_not_umt5(models):
    t5 = tw.tc.write_t5_file(models / "text_encoders" / "t5xxl_fp16.safetensors")
    with pytest.raises(CheckpointError, match="not an umT5 text encoder.*T5 \\(not umT5\\)"):
        load_umt5_encoder(t5, torch.float32)


def test_wan21_t2v_file_is_refused_for_i2v(models):
    with pytest.raises(CheckpointError, match="text-to-video.*cannot take an image.*TI2V-5B"):
        load_wan("wan2.1_t2v_1.3B_fp16.safetensors", vae="wan_2.1_vae.safetensors",
                 text_encoder="umt5_xxl_fp16.safetensors")


def test_vace_and_fun_are_refused_with_what_they_are(models, tmp_path):
    sd = tw.transformer_original_state_dict(tw.build_transformer("t2v", 3))
    sd["vace_patch_embedding.weight"] = torch.zeros(8, 96, 1, 2, 2)
    vace = tw._save({k: v.half() for k, v in sd.items()}, tmp_path / "vace.safetensors")
    with pytest.raises(CheckpointError, match="VACE"):
        load_wan(vace, vae="wan_2.1_vae.safetensors", text_encoder="umt5_xxl_fp16.safetensors")
    fun = tw.write_transformer_file(tmp_path / "fun.safetensors", "fun", 4)
    with pytest.raises(CheckpointError, match="48 input channels for 16.*Fun"):
        load_wan(fun, vae="wan_2.1_vae.safetensors", text_encoder="umt5_xxl_fp16.safetensors")


def test_a14b_with_one_expert(models):
    with pytest.raises(ModelNotFoundError, match="needs both.*high-noise.*low-noise"):
        load_wan("wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors", vae="wan_2.1_vae.safetensors",
                 text_encoder="umt5_xxl_fp16.safetensors")
    folder = models / "diffusers" / "one-expert"
    tw.write_diffusers_folder(folder, "i2v-a14b", experts=1)
    try:
        with pytest.raises(ModelNotFoundError, match="only one of the two.*transformer_2/ \\(low noise\\) is missing"):
            load_wan("one-expert", device="cpu")
    finally:
        shutil.rmtree(folder)
    with pytest.raises(CheckpointError, match="not the other expert"):
        load_wan("wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors", model_2=tw.WORKFLOW_FILES["model"],
                 vae="wan_2.1_vae.safetensors", text_encoder="umt5_xxl_fp16.safetensors")


@pytest.mark.parametrize("model,vae,have,need", [
    (tw.WORKFLOW_FILES["model"], "wan_2.1_vae.safetensors", "2.1", "2.2"),
    ("wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors", tw.WORKFLOW_FILES["vae"], "2.2", "2.1")])
def test_vae_of_the_wrong_generation(models, model, vae, have, need):
    kw = {"model_2": "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors"} if "14B" in model else {}
    with pytest.raises(CheckpointError, match=rf"is a Wan {have} VAE.*needs the Wan {need} VAE"):
        load_wan(model, vae=vae, text_encoder="umt5_xxl_fp16.safetensors", device="cpu", **kw)


def test_missing_parts_and_names(models):
    with pytest.raises(ModelNotFoundError, match="not found in models/diffusers.*Available: Wan2.2-I2V-A14B-Diffusers.*Wan-AI/Wan2.2-TI2V-5B-Diffusers"):
        load_wan("no-such-wan")
    with pytest.raises(Exception, match="needs a VAE"):
        load_wan(tw.WORKFLOW_FILES["model"], text_encoder="umt5_xxl_fp16.safetensors")


def test_single_file_in_bf16_equals_the_folder(models, tmp_path):
    """diffusers keeps RoPE, time embedder, modulation and norms in float32 (from_pretrained); the
    single-file path does the same, from the file's own values."""
    folder = load_wan("Wan2.2-TI2V-5B-Diffusers", device="cpu", dtype="bf16").components["transformer"]
    f = tw.write_transformer_file(models / DF / "fp32_copy.safetensors", "ti2v-5b", 0, dtype=torch.float32)
    try:
        single = load_wan(f.name, vae=tw.WORKFLOW_FILES["vae"], text_encoder=tw.WORKFLOW_FILES["text_encoder"],
                          device="cpu", dtype="bf16").components["transformer"]
    finally:
        f.unlink()
    sa, sb = folder.state_dict(), single.state_dict()
    assert any(v.dtype == torch.float32 for v in sa.values()) and any(v.dtype == torch.bfloat16 for v in sa.values())
    assert {k: v.dtype for k, v in sa.items()} == {k: v.dtype for k, v in sb.items()}
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
