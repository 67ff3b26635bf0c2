"""Load Open-Sora ST-DiT (STDiT3) + its VAE + T5 -> video model for the Image to Video node."""
from __future__ import annotations

from ._common import CATEGORY, VIDEO_MODEL, tip

_EXT = (".safetensors", ".sft", ".pt", ".pth", ".bin", ".ckpt")


def _choices():
    from .. import host

    models = host.list_files("opensora", _EXT) + host.list_files("diffusion_models", _EXT)
    models += sorted({d for m in ("model.safetensors.index.json", "pytorch_model.bin.index.json", "ema.pt")
                      for d in host.list_dirs("opensora", m)})
    vaes = host.list_files("vae", _EXT) + host.list_files("opensora", _EXT)
    t5s = [f for f in host.list_files("text_encoders", (".safetensors", ".sft")) if "t5" in f.lower()]
    t5s += host.list_dirs("text_encoders", "config.json")
    return (sorted(set(models)) or [host.empty_choice("ST-DiT checkpoint", "opensora")],
            sorted(set(vaes)) or [host.empty_choice("Open-Sora VAE", "vae")],
            t5s or [host.empty_choice("T5 encoder", "text_encoders")])


class MotionComicLoadSTDiT:
    DESCRIPTION = ("Loads an Open-Sora 1.2 ST-DiT (STDiT3, e.g. hpcai-tech/OpenSora-STDiT-v3 or your own fine-tune of "
                   "any size) with the Open-Sora VAE v1.2 and a T5-XXL encoder. Connect to Image to Video; add "
                   "'Open-Sora Options' for the resolution bucket, scores and first/last/loop frames.")
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = (VIDEO_MODEL,)
    RETURN_NAMES = ("model",)
    OUTPUT_TOOLTIPS = ("The loaded Open-Sora model (aspect buckets, 17-frame grid, 300 text tokens, 24 fps).",)

    @classmethod
    def INPUT_TYPES(cls):
        models, vaes, t5s = _choices()
        return {
            "required": {
                "model": (models, tip("STDiT3 checkpoint in models/opensora/ or models/diffusion_models/: "
                                      "model.safetensors (with its config.json beside it), pytorch_model*.bin shards "
                                      "+ index, or ema.pt. The size is read from the weights.")),
                "vae": (vaes, tip("Open-Sora VAE v1.2 (hpcai-tech/OpenSora-VAE-v1.2 model.safetensors, both halves) "
                                  "in models/opensora/ or models/vae/.")),
                "t5": (t5s, tip("T5-v1_1-XXL encoder: a transformers folder or t5xxl_fp16.safetensors in "
                                "models/text_encoders/ (single files need the tokenizer in "
                                "models/text_encoders/t5_tokenizer/).")),
                "dtype": (["auto", "bf16", "fp16", "fp32"], tip(
                    "Precision of ST-DiT and VAE. auto = bf16 on GPUs, fp32 on CPU. Upstream runs bf16.",
                    default="auto")),
                "t5_dtype": (["fp32", "bf16"], tip("T5 precision. fp32 as upstream (about 19 GB); bf16 halves it with "
                                                   "slightly different captions features.", default="fp32")),
                "device": (["auto", "cpu"], tip("auto = ComfyUI's device (GPU when there is one).", default="auto")),
                "offload": (["none", "model"], tip("none: all parts stay on the device. model: each part (T5, VAE, "
                                                   "ST-DiT) moves to the device only while it runs.", default="model")),
            }
        }

    def load(self, model, vae, t5, dtype, t5_dtype, device, offload):
        from ..loaders.registry import load_video_model

        dev = None if device == "auto" else device
        return (load_video_model(model, family="opensora", vae=vae, t5=t5, dtype=dtype, device=dev, offload=offload,
                                 t5_dtype=t5_dtype, defer=True),)


NODE_CLASS_MAPPINGS = {"MotionComicLoadSTDiT": MotionComicLoadSTDiT}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicLoadSTDiT": "Load Open-Sora ST-DiT (motioncomic)"}
