"""Load CogVideoX: a diffusers folder or a single-file transformer (+ VAE + T5) -> video model."""
from __future__ import annotations

from ._common import VIDEO_MODEL
from ._schema import Combo, Node, Out

FROM_FOLDER = "(from model folder)"


def _models() -> list[str]:
    from ..loaders.cogvideox import model_choices

    from .. import host

    return model_choices() or [host.empty_choice("CogVideoX model", "CogVideo")]


def _vaes() -> list[str]:
    from .. import host

    return [FROM_FOLDER] + host.list_files("vae", (".safetensors", ".sft", ".pt", ".pth", ".bin"))


def _t5s() -> list[str]:
    from .. import host

    t5s = [f for f in host.list_files("text_encoders", (".safetensors", ".sft")) if "t5" in f.lower()]
    return [FROM_FOLDER] + t5s + host.list_dirs("text_encoders", "config.json")


def load(model, vae, t5, dtype, offload):
    from ..loaders.registry import load_video_model

    # described now, weights read by the sampler after it has checked its inputs
    return (load_video_model(model, family="cogvideox", vae=vae, t5=t5, dtype=dtype, offload=offload, defer=True),)


NODES = [Node(
    "MotionComicLoadCogVideoX", "Load CogVideoX (motioncomic)",
    "Loads CogVideoX-5B-I2V or CogVideoX-1.5-5B-I2V (for Image to Video), or the text-to-video CogVideoX-5b / 2b / "
    "1.5-5B (for Text to Video), from a diffusers folder in models/CogVideo/ (or models/diffusers/), or a single-file "
    "transformer in models/diffusion_models/ with a VAE and a T5 encoder. The variant is recognised from the weights.",
    load,
    inputs=[
        Combo("model", _models, "A CogVideoX diffusers folder (models/CogVideo/<name>/) or a single-file transformer "
              "(models/diffusion_models/). Image-to-video models go to Image to Video, text-to-video models to Text "
              "to Video."),
        Combo("vae", _vaes, "VAE for a single-file transformer (models/vae/, e.g. the vae/ "
              "diffusion_pytorch_model.safetensors of the repo). Folders use their own vae/.", default=FROM_FOLDER),
        Combo("t5", _t5s, "T5-XXL encoder: t5xxl_fp16 / t5xxl_fp8_e4m3fn(_scaled) in models/text_encoders/ (needs "
              "tokenizer files in models/text_encoders/t5_tokenizer/), or the folder's own text_encoder/.",
              default=FROM_FOLDER),
        Combo("dtype", ["bf16", "fp16", "fp32"], "Compute precision. bf16 for RTX 30xx/40xx/A100+; fp32 on older GPUs "
              "or CPU. fp16 is refused for 1.5 (black video).", default="bf16"),
        Combo("offload", ["none", "model", "sequential"], "none: everything on the GPU (fastest, ~26 GB for 5B). "
              "model: each part moves to the GPU while it runs (~19 GB). sequential: layer by layer (~5 GB with VAE "
              "tiling, 3-4x slower).", default="none"),
    ],
    outputs=[Out(VIDEO_MODEL, "model", "The loaded model with its frame, frame-count and text rules; connect to "
                 "Image to Video (I2V models) or Text to Video (T2V models), optionally through CogVideoX LoRA "
                 "nodes.")],
)]
