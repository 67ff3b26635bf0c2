"""Load CogVideoX: a diffusers folder or a single-file transformer (+ VAE + T5) -> video model."""
from __future__ import annotations

from ._common import CATEGORY, VIDEO_MODEL, tip

FROM_FOLDER = "(from model folder)"


def _choices():
    from .. import host
    from ..loaders.cogvideox import model_choices

    vaes = host.list_files("vae", (".safetensors", ".sft", ".pt", ".pth", ".bin"))
    t5s = [f for f in host.list_files("text_encoders", (".safetensors", ".sft")) if "t5" in f.lower()]
    t5s += [d for d in host.list_dirs("text_encoders", "config.json")]
    return model_choices() or [host.empty_choice("CogVideoX model", "CogVideo")], [FROM_FOLDER] + vaes, [FROM_FOLDER] + t5s


class MotionComicLoadCogVideoX:
    DESCRIPTION = ("Loads CogVideoX-5B-I2V or CogVideoX-1.5-5B-I2V (for Image to Video), or the text-to-video "
                   "CogVideoX-5b / 2b / 1.5-5B (for Text to Video), from a diffusers folder in models/CogVideo/ "
                   "(or models/diffusers/), or a single-file transformer in models/diffusion_models/ with a VAE "
                   "and a T5 encoder. The variant is recognised from the weights.")
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = (VIDEO_MODEL,)
    RETURN_NAMES = ("model",)
    OUTPUT_TOOLTIPS = ("The loaded model with its frame, frame-count and text rules; connect to Image to Video "
                       "(I2V models) or Text to Video (T2V models), optionally through CogVideoX LoRA nodes.",)

    @classmethod
    def INPUT_TYPES(cls):
        models, vaes, t5s = _choices()
        return {
            "required": {
                "model": (models, tip("A CogVideoX diffusers folder (models/CogVideo/<name>/) or a single-file "
                                      "transformer (models/diffusion_models/). Image-to-video models go to Image "
                                      "to Video, text-to-video models to Text to Video.")),
                "vae": (vaes, tip("VAE for a single-file transformer (models/vae/, e.g. the vae/ "
                                  "diffusion_pytorch_model.safetensors of the repo). Folders use their own vae/.",
                                  default=FROM_FOLDER)),
                "t5": (t5s, tip("T5-XXL encoder: t5xxl_fp16 / t5xxl_fp8_e4m3fn(_scaled) in models/text_encoders/ "
                                "(needs tokenizer files in models/text_encoders/t5_tokenizer/), or the folder's own "
                                "text_encoder/.", default=FROM_FOLDER)),
                "dtype": (["bf16", "fp16", "fp32"], tip("Compute precision. bf16 for RTX 30xx/40xx/A100+; fp32 on "
                                                        "older GPUs or CPU. fp16 is refused for 1.5 (black video).",
                                                        default="bf16")),
                "offload": (["none", "model", "sequential"], tip(
                    "none: everything on the GPU (fastest, ~26 GB for 5B). model: each part moves to the GPU "
                    "while it runs (~19 GB). sequential: layer by layer (~5 GB with VAE tiling, 3-4x slower).",
                    default="none")),
            }
        }

    def load(self, model, vae, t5, dtype, offload):
        from ..loaders.registry import load_video_model

        # described now, weights read by the sampler after it has checked its inputs
        return (load_video_model(model, family="cogvideox", vae=vae, t5=t5, dtype=dtype, offload=offload, defer=True),)


NODE_CLASS_MAPPINGS = {"MotionComicLoadCogVideoX": MotionComicLoadCogVideoX}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicLoadCogVideoX": "Load CogVideoX (motioncomic)"}
