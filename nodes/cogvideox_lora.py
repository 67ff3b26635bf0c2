"""CogVideoX LoRA: model + LoRA file + strength -> the model with the LoRA (chainable)."""
from __future__ import annotations

from ._common import CATEGORY, VIDEO_MODEL, tip


def _choices() -> list[str]:
    from ..loaders.lora import lora_choices

    return lora_choices() or ["(no LoRA found in models/loras/ or models/CogVideo/loras/)"]


class MotionComicCogVideoXLoRA:
    DESCRIPTION = ("Adds a CogVideoX LoRA (diffusers/PEFT or kohya layout, e.g. from train-lora) at a strength. "
                   "Chain several. The loaded model is not changed: the LoRA is applied only while sampling, so "
                   "changing the strength does not reload the model. A LoRA for another base model is refused.")
    CATEGORY = CATEGORY
    FUNCTION = "apply"
    RETURN_TYPES = (VIDEO_MODEL,)
    RETURN_NAMES = ("model",)
    OUTPUT_TOOLTIPS = ("The same model with this LoRA added; connect to Image to Video, Text to Video or another "
                       "CogVideoX LoRA.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": (VIDEO_MODEL, tip("A CogVideoX model from Load CogVideoX (or another CogVideoX LoRA).")),
                "lora": (_choices(), tip("LoRA file from models/loras/ or models/CogVideo/loras/ (.safetensors).")),
                "strength": ("FLOAT", tip("1 = as trained, 0 = off, negative = inverted; -10..10. For LoRAs saved "
                                          "without alpha by diffusers' or CogVideo's trainers use alpha/rank "
                                          "(e.g. 0.5).", default=1.0, min=-10.0, max=10.0, step=0.05)),
                "fuse": ("BOOLEAN", tip("Merge into the weights while sampling (faster steps; the weights are "
                                        "restored afterwards). Off: added per layer on the fly.", default=False)),
            }
        }

    def apply(self, model, lora, strength, fuse):
        from ..loaders.lora import read_lora, resolve_lora, with_lora

        return (with_lora(model, read_lora(resolve_lora(lora), lora), strength, fuse=fuse),)


NODE_CLASS_MAPPINGS = {"MotionComicCogVideoXLoRA": MotionComicCogVideoXLoRA}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicCogVideoXLoRA": "CogVideoX LoRA (motioncomic)"}
