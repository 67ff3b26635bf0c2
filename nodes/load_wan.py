"""Load Wan: a Wan 2.2 diffusers folder or ComfyUI single files (+ second expert, VAE, umT5) -> video model."""
from __future__ import annotations

from ._common import VIDEO_MODEL
from ._schema import Combo, Node, Out

FROM_FOLDER = "(from model folder)"
NONE = "(none)"
_EXT = (".safetensors", ".sft")


def _models() -> list[str]:
    from .. import host
    from ..loaders.wan import model_choices

    return model_choices() or [host.empty_choice("Wan model", "diffusion_models")]


def _experts() -> list[str]:
    from .. import host

    return [NONE] + host.list_files("diffusion_models", _EXT)


def _vaes() -> list[str]:
    from .. import host

    return [FROM_FOLDER] + host.list_files("vae", _EXT)


def _text_encoders() -> list[str]:
    from .. import host

    tes = [f for f in host.list_files("text_encoders", _EXT) if "umt5" in f.lower()]
    return [FROM_FOLDER] + tes + host.list_dirs("text_encoders", "config.json")


def load(model, model_2, vae, text_encoder, dtype, offload):
    from ..loaders.registry import load_video_model

    # described now (every file and the VAE generation checked), weights read by the sampler
    return (load_video_model(model, family="wan", model_2=model_2, vae=vae, text_encoder=text_encoder,
                             dtype=dtype, offload=offload, defer=True),)


NODES = [Node(
    "MotionComicLoadWan", "Load Wan (motioncomic)",
    "Loads Wan 2.2 TI2V-5B or Wan 2.2 I2V-A14B for Image to Video: a diffusers folder in models/diffusers/ "
    "(Wan-AI/*-Diffusers), or ComfyUI's single files (transformer in models/diffusion_models/, VAE in models/vae/, "
    "umT5 in models/text_encoders/). The variant is recognised from the weights; text-to-video, VACE and Fun models "
    "are refused.",
    load,
    inputs=[
        Combo("model", _models, "A Wan diffusers folder (models/diffusers/<name>/) or a transformer file "
              "(models/diffusion_models/): wan2.2_ti2v_5B_fp16.safetensors, or for A14B the high-noise expert "
              "wan2.2_i2v_high_noise_14B_*.safetensors."),
        Combo("model_2", _experts, "A14B only: the low-noise expert (wan2.2_i2v_low_noise_14B_*.safetensors). "
              "TI2V-5B and folders: (none).", default=NONE),
        Combo("vae", _vaes, "The VAE for single files: wan2.2_vae.safetensors for TI2V-5B, wan_2.1_vae.safetensors "
              "for A14B (models/vae/). Folders use their vae/.", default=FROM_FOLDER),
        Combo("text_encoder", _text_encoders, "umT5-XXL: umt5_xxl_fp16 / umt5_xxl_fp8_e4m3fn_scaled in "
              "models/text_encoders/ (they carry the tokenizer), or the folder's text_encoder/.", default=FROM_FOLDER),
        Combo("dtype", ["bf16", "fp16", "fp32"], "Compute precision. bf16 for RTX 30xx/40xx/A100+; fp16 on older "
              "GPUs; fp32 on CPU.", default="bf16"),
        Combo("offload", ["none", "model", "sequential"], "none: everything on the GPU (TI2V-5B ~24 GB at 720p). "
              "model: each part (one A14B expert at a time) moves to the GPU while it runs. sequential: layer by "
              "layer (least VRAM, slowest).", default="model"),
    ],
    outputs=[Out(VIDEO_MODEL, "model", "The model with its frame-area, frame-count (4N+1) and 512-token text rules; "
                 "connect to Image to Video (weights are read when it runs).")],
)]
