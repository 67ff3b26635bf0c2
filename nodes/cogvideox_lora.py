"""CogVideoX LoRA: model + LoRA file + strength -> the model with the LoRA (chainable)."""
from __future__ import annotations

from ._common import VIDEO_MODEL
from ._schema import Boolean, Combo, Custom, Float, Node, Out


def _choices() -> list[str]:
    from ..loaders.lora import lora_choices

    return lora_choices() or ["(no LoRA found in models/loras/ or models/CogVideo/loras/)"]


def apply(model, lora, strength, fuse):
    from ..loaders.lora import read_lora, resolve_lora, with_lora

    return (with_lora(model, read_lora(resolve_lora(lora), lora), strength, fuse=fuse),)


NODES = [Node(
    "MotionComicCogVideoXLoRA", "CogVideoX LoRA (motioncomic)",
    "Adds a CogVideoX LoRA (diffusers/PEFT or kohya layout, e.g. from train-lora) at a strength. Chain several. The "
    "loaded model is not changed: the LoRA is applied only while sampling, so changing the strength does not reload "
    "the model. A LoRA for another base model is refused.",
    apply,
    inputs=[
        Custom("model", VIDEO_MODEL, "A CogVideoX model from Load CogVideoX (or another CogVideoX LoRA)."),
        Combo("lora", _choices, "LoRA file from models/loras/ or models/CogVideo/loras/ (.safetensors)."),
        Float("strength", "1 = as trained, 0 = off, negative = inverted; -10..10. For LoRAs saved without alpha by "
              "diffusers' or CogVideo's trainers use alpha/rank (e.g. 0.5).", default=1.0, min=-10.0, max=10.0,
              step=0.05),
        Boolean("fuse", "Merge into the weights while sampling (faster steps; the weights are restored afterwards). "
                "Off: added per layer on the fly.", default=False),
    ],
    outputs=[Out(VIDEO_MODEL, "model", "The same model with this LoRA added; connect to Image to Video, Text to "
                 "Video or another CogVideoX LoRA.")],
)]
