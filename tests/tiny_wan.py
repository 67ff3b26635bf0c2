"""Tiny random-weight Wan 2.2 parts written in the real on-disk layouts (tests, benchmarks, the
real-ComfyUI suite).

Shapes follow diffusers' own Wan 2.2 CPU tests, with the real 128-wide attention heads (single
files carry no config; the head count is width / 128 as in ComfyUI): 2 heads x 128, umT5 width 32,
VAE base width 8. Variants:

- ``"ti2v-5b"``: Wan 2.2 TI2V-5B style (in = out = 48 channels, the Wan 2.2 VAE, 16x stride).
- ``"i2v-a14b"``: one Wan 2.2 I2V-A14B expert (in 36, out 16, the Wan 2.1 VAE); seed 0 builds the
  high-noise expert, seed 1 the low-noise one.
- ``"t2v"``: a text-to-video transformer (in = out = 16), for the refusal test.

Writers: ``write_diffusers_folder`` (the Wan-AI/*-Diffusers layout), ``write_transformer_file`` /
``write_vae_file`` (ComfyUI's original Wan key layout, fp16 or scaled fp8, optionally under
``model.diffusion_model.``), ``write_umt5_file`` (ComfyUI's umt5_xxl layout with the tokenizer as
``spiece_model``), ``write_tokenizer``. ``install_for_workflows(models_dir)`` puts the models the
shipped workflows name into a models directory.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import torch

import tiny_cogvideox as tc

#: File names the shipped workflows use (ComfyUI's names for the real files).
WORKFLOW_FILES = {"model": "wan2.2_ti2v_5B_fp16.safetensors", "vae": "wan2.2_vae.safetensors",
                  "text_encoder": "umt5_xxl_fp16.safetensors"}
TEXT_DIM = 32
#: The workflows' tiny TI2V-5B: 1 head, 1 layer and a VAE of base width 4, so the shipped 480p,
#: 49-frame graph runs in minutes on a CPU.
WORKFLOW_TRANSFORMER = dict(num_attention_heads=1, num_layers=1)
WORKFLOW_VAE_BASE = 4
HEADS, HEAD_DIM = 2, 128
VAE_GENERATION = {"ti2v-5b": "2.2", "i2v-a14b": "2.1", "t2v": "2.1"}


# --------------------------------------------------------------------------- components
def transformer_config(variant: str = "ti2v-5b", **over) -> dict:
    cin, cout = {"ti2v-5b": (48, 48), "i2v-a14b": (36, 16), "t2v": (16, 16), "fun": (48, 16)}[variant]
    cfg = dict(patch_size=(1, 2, 2), num_attention_heads=HEADS, attention_head_dim=HEAD_DIM, in_channels=cin,
               out_channels=cout, text_dim=TEXT_DIM, freq_dim=256, ffn_dim=64, num_layers=2, cross_attn_norm=True,
               qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)
    return {**cfg, **over}


def build_transformer(variant: str = "ti2v-5b", seed: int = 0, **over):
    from diffusers import WanTransformer3DModel

    torch.manual_seed(seed)
    model = WanTransformer3DModel(**transformer_config(variant, **over)).eval()
    with torch.no_grad():  # diffusers zero-initialises nothing we rely on, but make every table random
        for p in model.parameters():
            if p.abs().sum() == 0:
                p.normal_(0, 0.02)
    return model


def vae_config(generation: str = "2.2", base: int = 8) -> dict:
    from motioncomic.loaders.wan_config import WAN21_MEAN, WAN21_STD, WAN22_MEAN, WAN22_STD

    cfg = dict(base_dim=base, z_dim=16, dim_mult=[1, 2, 2, 2], num_res_blocks=2, attn_scales=[],
               temperal_downsample=[False, True, True], dropout=0.0, latents_mean=WAN21_MEAN, latents_std=WAN21_STD,
               scale_factor_spatial=8, scale_factor_temporal=4)
    if generation == "2.2":
        cfg.update(z_dim=48, decoder_base_dim=base + base // 2, is_residual=True, in_channels=12, out_channels=12,
                   patch_size=2, scale_factor_spatial=16, latents_mean=WAN22_MEAN, latents_std=WAN22_STD)
    return cfg


def build_vae(generation: str = "2.2", seed: int = 1, base: int = 8):
    from diffusers import AutoencoderKLWan

    torch.manual_seed(seed)
    return AutoencoderKLWan(**vae_config(generation, base)).eval()


def umt5_config(vocab_size: int = 64):
    from transformers import UMT5Config

    return UMT5Config(vocab_size=vocab_size, d_model=TEXT_DIM, d_kv=8, num_heads=4, d_ff=37, num_layers=2,
                      feed_forward_proj="gated-gelu", relative_attention_num_buckets=8, decoder_start_token_id=0,
                      pad_token_id=0, eos_token_id=1)


def build_umt5(seed: int = 2):
    from transformers import UMT5EncoderModel

    torch.manual_seed(seed)
    return UMT5EncoderModel(umt5_config()).eval()


def build_scheduler(flow_shift: float = 5.0):
    from diffusers import UniPCMultistepScheduler

    from motioncomic.loaders.wan_config import SCHEDULER_CONFIG

    cfg = {k: v for k, v in SCHEDULER_CONFIG.items() if not k.startswith("_")}
    return UniPCMultistepScheduler(**cfg, flow_shift=flow_shift)


def write_tokenizer(folder: Path) -> Path:
    """The real tokenizer/ layout of the Wan-AI repos (spiece.model + json configs)."""
    return tc.write_tokenizer(folder, max_length=512)


# --------------------------------------------------------------------------- diffusers folders
def write_diffusers_folder(folder: Path, variant: str = "ti2v-5b", seed: int = 0, experts: int = 2) -> Path:
    """A Wan-AI/*-Diffusers folder; for A14B ``experts=1`` leaves transformer_2/ out."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    build_transformer(variant, seed).save_pretrained(folder / "transformer")
    two = variant == "i2v-a14b"
    if two and experts > 1:
        build_transformer(variant, seed + 1).save_pretrained(folder / "transformer_2")
    build_vae(VAE_GENERATION[variant], seed + 2).save_pretrained(folder / "vae")
    build_umt5(seed + 3).save_pretrained(folder / "text_encoder")
    write_tokenizer(folder / "tokenizer")
    build_scheduler().save_pretrained(folder / "scheduler")
    index = {
        "_class_name": "WanImageToVideoPipeline" if two else "WanPipeline", "_diffusers_version": "0.35.0",
        "boundary_ratio": 0.9 if two else None, "expand_timesteps": not two,
        "scheduler": ["diffusers", "UniPCMultistepScheduler"], "text_encoder": ["transformers", "UMT5EncoderModel"],
        "tokenizer": ["transformers", "T5TokenizerFast"], "transformer": ["diffusers", "WanTransformer3DModel"],
        "transformer_2": ["diffusers", "WanTransformer3DModel"] if two else [None, None],
        "vae": ["diffusers", "AutoencoderKLWan"],
    }
    if two:
        index.update(image_encoder=[None, None], image_processor=[None, None])
    (folder / "model_index.json").write_text(json.dumps(index, indent=2))
    return folder


# --------------------------------------------------------------------------- original (ComfyUI) layout
_T_INV = (("condition_embedder.time_embedder.linear_1.", "time_embedding.0."),
          ("condition_embedder.time_embedder.linear_2.", "time_embedding.2."),
          ("condition_embedder.text_embedder.linear_1.", "text_embedding.0."),
          ("condition_embedder.text_embedder.linear_2.", "text_embedding.2."),
          ("condition_embedder.time_proj.", "time_projection.1."), ("proj_out.", "head.head."))
_B_INV = (("attn1.to_out.0.", "self_attn.o."), ("attn1.to_", "self_attn."), ("attn1.", "self_attn."),
          ("attn2.to_out.0.", "cross_attn.o."), ("attn2.to_", "cross_attn."), ("attn2.", "cross_attn."),
          ("norm2.", "norm3."), ("ffn.net.0.proj.", "ffn.0."), ("ffn.net.2.", "ffn.2."))


def original_transformer_key(key: str) -> str:
    """diffusers name -> the original Wan / ComfyUI name (inverse of loaders.wan_keys.transformer_key)."""
    if key == "scale_shift_table":
        return "head.modulation"
    m = re.match(r"blocks\.(\d+)\.(.*)", key)
    if m:
        rest = m.group(2)
        if rest == "scale_shift_table":
            return f"blocks.{m.group(1)}.modulation"
        for new, old in _B_INV:
            if rest.startswith(new):
                return f"blocks.{m.group(1)}.{old}{rest[len(new):]}"
        return key
    for new, old in _T_INV:
        if key.startswith(new):
            return old + key[len(new):]
    return key


_R_INV = (("norm1.gamma", "residual.0.gamma"), ("conv1.", "residual.2."), ("norm2.gamma", "residual.3.gamma"),
          ("conv2.", "residual.6."), ("conv_shortcut.", "shortcut."))


def original_vae_key(key: str, generation: str, num_res_blocks: int = 2) -> str:
    """diffusers ``AutoencoderKLWan`` name -> the original Wan 2.1 / 2.2 name."""
    def res(rest: str) -> str:
        for new, old in _R_INV:
            if rest.startswith(new):
                return old + rest[len(new):]
        return rest

    for new, old in (("quant_conv.", "conv1."), ("post_quant_conv.", "conv2.")):
        if key.startswith(new):
            return old + key[len(new):]
    part, rest = key.split(".", 1)
    simple = (("conv_in.", "conv1."), ("norm_out.", "head.0."), ("conv_out.", "head.2."),
              ("mid_block.resnets.0.", "middle.0."), ("mid_block.attentions.0.", "middle.1."),
              ("mid_block.resnets.1.", "middle.2."))
    for new, old in simple:
        if rest.startswith(new):
            tail = rest[len(new):]
            return f"{part}.{old}{res(tail) if 'resnets' in new else tail}"
    if m := re.match(r"down_blocks\.(\d+)\.(.*)", rest):
        i, tail = int(m.group(1)), m.group(2)
        if generation == "2.1":
            return f"{part}.downsamples.{i}.{res(tail)}"
        if t := re.match(r"resnets\.(\d+)\.(.*)", tail):
            return f"{part}.downsamples.{i}.downsamples.{t.group(1)}.{res(t.group(2))}"
        return f"{part}.downsamples.{i}.downsamples.{num_res_blocks}.{tail[len('downsampler.'):]}"
    if m := re.match(r"up_blocks\.(\d+)\.(.*)", rest):
        i, tail = int(m.group(1)), m.group(2)
        per = num_res_blocks + 1
        if t := re.match(r"resnets\.(\d+)\.(.*)", tail):
            j, sub = int(t.group(1)), res(t.group(2))
            return (f"{part}.upsamples.{i * (per + 1) + j}.{sub}" if generation == "2.1"
                    else f"{part}.upsamples.{i}.upsamples.{j}.{sub}")
        sub = re.sub(r"^upsamplers\.0\.|^upsampler\.", "", tail)
        return (f"{part}.upsamples.{i * (per + 1) + per}.{sub}" if generation == "2.1"
                else f"{part}.upsamples.{i}.upsamples.{per}.{sub}")
    return key


def _save(sd: dict, path: Path) -> Path:
    return tc._save(sd, path)


def _quantise(sd: dict, fp8: str | None, dtype) -> dict:
    out: dict = {}
    for k, v in sd.items():
        linear = k.endswith(".weight") and v.ndim == 2
        if fp8 == "scaled" and linear:
            scale = v.abs().max().float() / 448.0
            out[k] = (v / scale).to(torch.float8_e4m3fn)
            out[k[: -len("weight")] + "scale_weight"] = scale.reshape(())
        else:
            out[k] = v.to(dtype) if v.is_floating_point() else v
    if fp8 == "scaled":
        out["scaled_fp8"] = torch.empty(0, dtype=torch.float8_e4m3fn)
    return out


def transformer_original_state_dict(model, prefix: str = "") -> dict:
    return {prefix + original_transformer_key(k): v for k, v in model.state_dict().items()}


def write_transformer_file(path: Path, variant: str = "ti2v-5b", seed: int = 0, dtype=torch.float16,
                           fp8: str | None = None, prefix: str = "", model=None) -> Path:
    """ComfyUI-style single file (models/diffusion_models/): original Wan key names, ``fp8``
    None (``dtype`` file) or ``"scaled"`` (e4m3fn weights + ``scale_weight`` + ``scaled_fp8``)."""
    model = model if model is not None else build_transformer(variant, seed)
    return _save(_quantise(transformer_original_state_dict(model, prefix), fp8, dtype), path)


def write_vae_file(path: Path, generation: str = "2.2", seed: int = 1, layout: str = "original", base: int = 8) -> Path:
    """Single-file Wan VAE (models/vae/) in the original layout (ComfyUI) or with diffusers names."""
    sd = build_vae(generation, seed, base).state_dict()
    if layout == "original":
        sd = {original_vae_key(k, generation): v for k, v in sd.items()}
    return _save(sd, path)


def write_umt5_file(path: Path, seed: int = 2, fp8: str | None = None, tokenizer: bool = True) -> Path:
    """ComfyUI's umt5_xxl_*.safetensors layout: ``shared.weight`` + ``encoder.*`` (fp16, or scaled
    fp8 linears) and, unless ``tokenizer`` is False, the sentencepiece model as ``spiece_model``."""
    sd = {k: v for k, v in build_umt5(seed).state_dict().items() if k != "encoder.embed_tokens.weight"}
    keep = {k: v for k, v in sd.items() if "relative_attention_bias" in k or k == "shared.weight" or "layer_norm" in k}
    out = _quantise({k: v for k, v in sd.items() if k not in keep}, fp8, torch.float16)
    out.update({k: v.to(torch.float16) for k, v in keep.items()})
    if tokenizer:
        out["spiece_model"] = torch.frombuffer(bytearray(tc.spiece_model_bytes()), dtype=torch.uint8)
    return _save(out, path)


def install_for_workflows(models_dir: Path) -> None:
    """Write the tiny TI2V-5B single files under the names the shipped workflows use."""
    models_dir = Path(models_dir)
    files = {"model": models_dir / "diffusion_models" / WORKFLOW_FILES["model"],
             "vae": models_dir / "vae" / WORKFLOW_FILES["vae"],
             "text_encoder": models_dir / "text_encoders" / WORKFLOW_FILES["text_encoder"]}
    if not files["model"].exists():
        write_transformer_file(files["model"], "ti2v-5b", model=build_transformer("ti2v-5b", 0, **WORKFLOW_TRANSFORMER))
    if not files["vae"].exists():
        write_vae_file(files["vae"], "2.2", base=WORKFLOW_VAE_BASE)
    if not files["text_encoder"].exists():
        write_umt5_file(files["text_encoder"])
