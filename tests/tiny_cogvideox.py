"""Tiny random-weight CogVideoX parts written in the real on-disk layouts (tests, benchmarks, the
real-ComfyUI suite).

Shapes follow diffusers' own CPU tests (REFERENCE.md): heads x head_dim = 2 x 16 = T5 d_model 32,
VAE widths 8, latent channels 4. Variants:

- ``"1.0-i2v"``: CogVideoX-5B-I2V style (learned position embeddings, in_channels 2x latent).
- ``"1.5-i2v"``: CogVideoX-1.5-5B-I2V style (patch_size_t 2, OFS embedding, no patch bias).
- ``"1.0-t2v"``: CogVideoX-5B text-to-video style (in_channels = latent channels, RoPE).
- ``"1.0-t2v-2b"``: CogVideoX-2B style (no RoPE: sincos position embeddings).
- ``"1.5-t2v"``: CogVideoX-1.5-5B text-to-video style (patch_size_t 2, no OFS).

Writers: ``write_diffusers_folder`` (model_index.json, transformer/, vae/, text_encoder/,
tokenizer/ with ``spiece.model``, scheduler/), ``write_transformer_file`` (single safetensors with
diffusers key names, as users keep in models/diffusion_models/), ``write_vae_file``,
``write_t5_file`` (ComfyUI ``t5xxl_*.safetensors`` layout: ``encoder.block.*`` + ``shared.weight``,
optionally fp8 / scaled fp8), ``write_tokenizer``. ``install_for_workflows(models_dir)`` puts the
models the shipped workflows name into a models directory.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import torch

#: Folder name the shipped workflows use for the CogVideoX model.
WORKFLOW_MODEL = "CogVideoX-5b-I2V"

LATENT_CHANNELS = 4
T5_DIM = 32
TEXT_TOKENS = 16  # max_text_seq_length of the tiny transformers

_TOKENIZER_TEXT = [
    "a girl waves her hand and smiles at the camera",
    "the character turns her head slowly, her hair moves in the wind",
    "anime style, cel shaded, soft light, detailed eyes",
    "he walks forward, the cape flutters behind him",
    "a knight raises a sword; sparks fly. 1 2 3 4 5 6 7 8 9 0",
    "she blinks, breathes, and looks to the left and to the right",
]


# --------------------------------------------------------------------------- components
def transformer_config(variant: str = "1.0-i2v") -> dict:
    """diffusers ``CogVideoXTransformer3DModel`` config of a tiny model of ``variant``."""
    cfg = dict(
        num_attention_heads=2, attention_head_dim=16, in_channels=2 * LATENT_CHANNELS,
        out_channels=LATENT_CHANNELS, time_embed_dim=2, text_embed_dim=T5_DIM, num_layers=1,
        sample_width=2, sample_height=2, sample_frames=49, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=TEXT_TOKENS,
        use_rotary_positional_embeddings=True, use_learned_positional_embeddings=True,
    )
    if variant == "1.0-i2v":
        return cfg
    if variant in ("1.0-t2v", "1.0-t2v-2b"):
        cfg.update(in_channels=LATENT_CHANNELS, use_learned_positional_embeddings=False)
        if variant == "1.0-t2v-2b":
            cfg.update(use_rotary_positional_embeddings=False)
        return cfg
    if variant == "1.5-t2v":
        cfg.update(in_channels=LATENT_CHANNELS, patch_size_t=2, patch_bias=False, sample_width=300,
                   sample_height=300, sample_frames=81, use_learned_positional_embeddings=False)
        return cfg
    if variant == "1.5-i2v":
        # sample size = the real 300 so the RoPE grid (max_size) matches what shape inference uses
        cfg.update(ofs_embed_dim=2, patch_size_t=2, patch_bias=False, sample_width=300,
                   sample_height=300, sample_frames=81, use_learned_positional_embeddings=False)
        return cfg
    raise ValueError(f"unknown tiny variant {variant}")


def build_transformer(variant: str = "1.0-i2v", seed: int = 0, **overrides):
    from diffusers import CogVideoXTransformer3DModel

    torch.manual_seed(seed)
    return CogVideoXTransformer3DModel(**{**transformer_config(variant), **overrides}).eval()


def vae_config(variant: str = "1.0-i2v", width: int = 8) -> dict:
    return dict(
        in_channels=3, out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(width,) * 4, latent_channels=LATENT_CHANNELS, layers_per_block=1,
        norm_num_groups=min(8, width), temporal_compression_ratio=4, scaling_factor=0.7,
        invert_scale_latents=variant.startswith("1.5"),
    )


def build_vae(variant: str = "1.0-i2v", seed: int = 0, width: int = 8):
    from diffusers import AutoencoderKLCogVideoX

    torch.manual_seed(seed)
    return AutoencoderKLCogVideoX(**vae_config(variant, width)).eval()


def t5_config(vocab_size: int = 64):
    from transformers import T5Config

    return T5Config(vocab_size=vocab_size, d_model=T5_DIM, d_kv=8, num_heads=4, d_ff=37,
                    num_layers=2, feed_forward_proj="gated-gelu", relative_attention_num_buckets=8,
                    relative_attention_max_distance=128, decoder_start_token_id=0,
                    pad_token_id=0, eos_token_id=1)


def build_t5(seed: int = 0):
    from transformers import T5EncoderModel

    torch.manual_seed(seed)
    return T5EncoderModel(t5_config()).eval()


def build_scheduler(kind: str = "ddim"):
    from diffusers import CogVideoXDDIMScheduler, CogVideoXDPMScheduler

    cls = CogVideoXDDIMScheduler if kind == "ddim" else CogVideoXDPMScheduler
    return cls(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
               clip_sample=False, num_train_timesteps=1000, prediction_type="v_prediction",
               rescale_betas_zero_snr=True, set_alpha_to_one=True, snr_shift_scale=1.0,
               steps_offset=0, timestep_spacing="trailing")


# --------------------------------------------------------------------------- tokenizer
def spiece_model_bytes() -> bytes:
    """A real sentencepiece unigram model trained on a few lines (T5 ids: pad 0, eos 1, unk 2)."""
    import sentencepiece as spm

    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_TOKENIZER_TEXT * 10), model_writer=out, vocab_size=60,
        model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1, minloglevel=2,
        hard_vocab_limit=False,
    )
    return out.getvalue()


def write_tokenizer(folder: Path, max_length: int = 226) -> Path:
    """The real ``tokenizer/`` layout of CogVideoX repos: spiece.model + json configs."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spiece.model").write_bytes(spiece_model_bytes())
    special = {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special))
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {**special, "tokenizer_class": "T5Tokenizer", "model_max_length": max_length,
         "extra_ids": 0, "additional_special_tokens": []}))
    return folder


def load_tokenizer(folder: Path):
    from transformers import T5Tokenizer

    return T5Tokenizer.from_pretrained(str(folder))


# --------------------------------------------------------------------------- writers
def write_diffusers_folder(folder: Path, variant: str = "1.0-i2v", scheduler: str = "ddim",
                           seed: int = 0) -> Path:
    """A complete diffusers CogVideoX folder (as downloaded from the hub)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    build_transformer(variant, seed).save_pretrained(folder / "transformer")
    build_vae(variant, seed + 1).save_pretrained(folder / "vae")
    build_t5(seed + 2).save_pretrained(folder / "text_encoder")
    write_tokenizer(folder / "tokenizer")
    build_scheduler(scheduler).save_pretrained(folder / "scheduler")
    pipe = "CogVideoXImageToVideoPipeline" if variant.endswith("i2v") else "CogVideoXPipeline"
    if variant == "1.0-t2v-2b":
        variant = "1.0-t2v"
    sched = "CogVideoXDDIMScheduler" if scheduler == "ddim" else "CogVideoXDPMScheduler"
    (folder / "model_index.json").write_text(json.dumps({
        "_class_name": pipe, "_diffusers_version": "0.32.0",
        "scheduler": ["diffusers", sched], "text_encoder": ["transformers", "T5EncoderModel"],
        "tokenizer": ["transformers", "T5Tokenizer"],
        "transformer": ["diffusers", "CogVideoXTransformer3DModel"],
        "vae": ["diffusers", "AutoencoderKLCogVideoX"],
    }, indent=2))
    return folder


def _save(sd: dict, path: Path, metadata: dict | None = None) -> Path:
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in sd.items()}, str(path), metadata=metadata)
    return path


def write_transformer_file(path: Path, variant: str = "1.0-i2v", seed: int = 0, dtype=None) -> Path:
    """Single-file transformer with diffusers key names (models/diffusion_models/); ``dtype``
    None keeps each tensor's dtype (the learned position table is float64 in diffusers)."""
    sd = build_transformer(variant, seed).state_dict()
    return _save({k: v.to(dtype or v.dtype) for k, v in sd.items()}, path)


def write_vae_file(path: Path, variant: str = "1.0-i2v", seed: int = 1, width: int = 8) -> Path:
    """Single-file CogVideoX VAE with diffusers key names (models/vae/)."""
    return _save(build_vae(variant, seed, width).state_dict(), path)


def t5_comfy_state_dict(model) -> dict:
    """A transformers T5 encoder's weights as ComfyUI's t5xxl files hold them: ``shared.weight``
    plus ``encoder.*`` (the tied ``encoder.embed_tokens.weight`` is not stored)."""
    return {k: v for k, v in model.state_dict().items() if k != "encoder.embed_tokens.weight"}


def write_t5_file(path: Path, seed: int = 2, fp8: str | None = None) -> Path:
    """ComfyUI-style T5 single file. ``fp8``: None (fp16 file), ``"e4m3fn"`` (plain fp8 cast, as
    t5xxl_fp8_e4m3fn.safetensors) or ``"scaled"`` (t5xxl_fp8_e4m3fn_scaled: per-weight
    ``scale_weight`` and a ``scaled_fp8`` marker)."""
    sd = t5_comfy_state_dict(build_t5(seed))
    out: dict = {}
    for k, v in sd.items():
        linear = k.endswith(".weight") and v.ndim == 2 and k != "shared.weight" and "relative_attention_bias" not in k
        if fp8 == "scaled" and linear:
            scale = v.abs().max().float() / 448.0
            out[k] = (v / scale).to(torch.float8_e4m3fn)
            out[k[: -len("weight")] + "scale_weight"] = scale.reshape(())
        elif fp8 == "e4m3fn" and linear:
            out[k] = v.to(torch.float8_e4m3fn)
        else:
            out[k] = v.to(torch.float16)
    if fp8 == "scaled":
        out["scaled_fp8"] = torch.empty(0, dtype=torch.float8_e4m3fn)
    return _save(out, path)


def install_for_workflows(models_dir: Path) -> None:
    """Write the tiny models under the exact names the shipped workflows use (folder
    ``models/CogVideo/CogVideoX-5b-I2V/`` with VAE, T5 and tokenizer inside)."""
    models_dir = Path(models_dir)
    target = models_dir / "CogVideo" / WORKFLOW_MODEL
    if not (target / "model_index.json").exists():
        write_diffusers_folder(target, "1.0-i2v")
