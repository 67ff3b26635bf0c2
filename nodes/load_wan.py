"""Load Wan: a Wan 2.2 diffusers folder or ComfyUI single files (+ second expert, VAE, umT5) -> video model."""
from __future__ import annotations

from ._common import CATEGORY, VIDEO_MODEL, tip

FROM_FOLDER = "(from model folder)"
NONE = "(none)"


def _choices():
    from .. import host
    from ..loaders.wan import model_choices

    files = host.list_files("diffusion_models", (".safetensors", ".sft"))
    vaes = host.list_files("vae", (".safetensors", ".sft"))
    tes = [f for f in host.list_files("text_encoders", (".safetensors", ".sft")) if "umt5" in f.lower()]
    tes += host.list_dirs("text_encoders", "config.json")
    models = model_choices() or [host.empty_choice("Wan model", "diffusion_models")]
    return models, [NONE] + files, [FROM_FOLDER] + vaes, [FROM_FOLDER] + tes


class MotionComicLoadWan:
    DESCRIPTION = ("Loads Wan 2.2 TI2V-5B or Wan 2.2 I2V-A14B for Image to Video: a diffusers folder in "
                   "models/diffusers/ (Wan-AI/*-Diffusers), or ComfyUI's single files (transformer in "
                   "models/diffusion_models/, VAE in models/vae/, umT5 in models/text_encoders/). The variant "
                   "is recognised from the weights; text-to-video, VACE and Fun models are refused.")
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = (VIDEO_MODEL,)
    RETURN_NAMES = ("model",)
    OUTPUT_TOOLTIPS = ("The model with its frame-area, frame-count (4N+1) and 512-token text rules; connect to "
                       "Image to Video (weights are read when it runs).",)

    @classmethod
    def INPUT_TYPES(cls):
        models, files, vaes, tes = _choices()
        return {
            "required": {
                "model": (models, tip("A Wan diffusers folder (models/diffusers/<name>/) or a transformer file "
                                      "(models/diffusion_models/): wan2.2_ti2v_5B_fp16.safetensors, or for A14B "
                                      "the high-noise expert wan2.2_i2v_high_noise_14B_*.safetensors.")),
                "model_2": (files, tip("A14B only: the low-noise expert (wan2.2_i2v_low_noise_14B_*.safetensors). "
                                       "TI2V-5B and folders: (none).", default=NONE)),
                "vae": (vaes, tip("The VAE for single files: wan2.2_vae.safetensors for TI2V-5B, "
                                  "wan_2.1_vae.safetensors for A14B (models/vae/). Folders use their vae/.",
                                  default=FROM_FOLDER)),
                "text_encoder": (tes, tip("umT5-XXL: umt5_xxl_fp16 / umt5_xxl_fp8_e4m3fn_scaled in "
                                          "models/text_encoders/ (they carry the tokenizer), or the folder's "
                                          "text_encoder/.", default=FROM_FOLDER)),
                "dtype": (["bf16", "fp16", "fp32"], tip("Compute precision. bf16 for RTX 30xx/40xx/A100+; fp16 on "
                                                        "older GPUs; fp32 on CPU.", default="bf16")),
                "offload": (["none", "model", "sequential"], tip(
                    "none: everything on the GPU (TI2V-5B ~24 GB at 720p). model: each part (one A14B expert at a "
                    "time) moves to the GPU while it runs. sequential: layer by layer (least VRAM, slowest).",
                    default="model")),
            }
        }

    def load(self, model, model_2, vae, text_encoder, dtype, offload):
        from ..loaders.registry import load_video_model

        # described now (every file and the VAE generation checked), weights read by the sampler
        return (load_video_model(model, family="wan", model_2=model_2, vae=vae, text_encoder=text_encoder,
                                 dtype=dtype, offload=offload, defer=True),)


NODE_CLASS_MAPPINGS = {"MotionComicLoadWan": MotionComicLoadWan}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicLoadWan": "Load Wan (motioncomic)"}
