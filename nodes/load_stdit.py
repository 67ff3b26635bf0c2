"""Load Open-Sora ST-DiT (STDiT3) + its VAE + T5 -> video model for the Image to Video node."""
from __future__ import annotations

from ._common import VIDEO_MODEL
from ._schema import Combo, Node, Out

_EXT = (".safetensors", ".sft", ".pt", ".pth", ".bin", ".ckpt")


def _models() -> list[str]:
    from .. import host

    models = host.list_files("opensora", _EXT) + host.list_files("diffusion_models", _EXT)
    models += sorted({d for m in ("model.safetensors.index.json", "pytorch_model.bin.index.json", "ema.pt")
                      for d in host.list_dirs("opensora", m)})
    return sorted(set(models)) or [host.empty_choice("ST-DiT checkpoint", "opensora")]


def _vaes() -> list[str]:
    from .. import host

    return sorted(set(host.list_files("vae", _EXT) + host.list_files("opensora", _EXT))) or [
        host.empty_choice("Open-Sora VAE", "vae")]


def _t5s() -> list[str]:
    from .. import host

    t5s = [f for f in host.list_files("text_encoders", (".safetensors", ".sft")) if "t5" in f.lower()]
    return t5s + host.list_dirs("text_encoders", "config.json") or [host.empty_choice("T5 encoder", "text_encoders")]


def load(model, vae, t5, dtype, t5_dtype, device, offload):
    from ..loaders.registry import load_video_model

    dev = None if device == "auto" else device
    return (load_video_model(model, family="opensora", vae=vae, t5=t5, dtype=dtype, device=dev, offload=offload,
                             t5_dtype=t5_dtype, defer=True),)


NODES = [Node(
    "MotionComicLoadSTDiT", "Load Open-Sora ST-DiT (motioncomic)",
    "Loads an Open-Sora 1.2 ST-DiT (STDiT3, e.g. hpcai-tech/OpenSora-STDiT-v3 or your own fine-tune of any size) "
    "with the Open-Sora VAE v1.2 and a T5-XXL encoder. Connect to Image to Video; add 'Open-Sora Options' for the "
    "resolution bucket, scores and first/last/loop frames.",
    load,
    inputs=[
        Combo("model", _models, "STDiT3 checkpoint in models/opensora/ or models/diffusion_models/: "
              "model.safetensors (with its config.json beside it), pytorch_model*.bin shards + index, or ema.pt. "
              "The size is read from the weights."),
        Combo("vae", _vaes, "Open-Sora VAE v1.2 (hpcai-tech/OpenSora-VAE-v1.2 model.safetensors, both halves) in "
              "models/opensora/ or models/vae/."),
        Combo("t5", _t5s, "T5-v1_1-XXL encoder: a transformers folder or t5xxl_fp16.safetensors in "
              "models/text_encoders/ (single files need the tokenizer in models/text_encoders/t5_tokenizer/)."),
        Combo("dtype", ["auto", "bf16", "fp16", "fp32"], "Precision of ST-DiT and VAE. auto = bf16 on GPUs, fp32 on "
              "CPU. Upstream runs bf16.", default="auto"),
        Combo("t5_dtype", ["fp32", "bf16"], "T5 precision. fp32 as upstream (about 19 GB); bf16 halves it with "
              "slightly different captions features.", default="fp32"),
        Combo("device", ["auto", "cpu"], "auto = ComfyUI's device (GPU when there is one).", default="auto"),
        Combo("offload", ["none", "model"], "none: all parts stay on the device. model: each part (T5, VAE, "
              "ST-DiT) moves to the device only while it runs.", default="model"),
    ],
    outputs=[Out(VIDEO_MODEL, "model", "The loaded Open-Sora model (aspect buckets, 17-frame grid, 300 text tokens, "
                 "24 fps).")],
)]
