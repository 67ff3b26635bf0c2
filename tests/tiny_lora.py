"""Tiny random LoRAs for the tiny CogVideoX transformers, written in the real layouts they are
shared in: diffusers/PEFT ``pytorch_lora_weights.safetensors`` (``transformer.<m>.lora_A.weight``,
alpha in ``lora_adapter_metadata`` as diffusers writes it) and kohya / CogVideoX-Fun
(``lora_unet_<m with _>.lora_down.weight`` + ``.alpha``)."""
from __future__ import annotations

import json
from pathlib import Path

import torch

ATTENTION = ("to_q", "to_k", "to_v", "to_out.0")


def random_layers(transformer, rank: int = 4, targets=ATTENTION, seed: int = 0, std: float = 0.3) -> dict:
    """module name -> (down [rank, in], up [out, rank]) for every Linear whose name ends in a target."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, m in transformer.named_modules():
        if isinstance(m, torch.nn.Linear) and any(name.endswith(t) for t in targets):
            out[name] = (torch.randn(rank, m.in_features, generator=g) * std,
                         torch.randn(m.out_features, rank, generator=g) * std)
    return out


def write_diffusers_lora(path: Path, layers: dict, alpha: float | None = None, extra_meta: dict | None = None) -> Path:
    from safetensors.torch import save_file

    sd = {}
    for m, (d, u) in layers.items():
        sd[f"transformer.{m}.lora_A.weight"] = d.contiguous()
        sd[f"transformer.{m}.lora_B.weight"] = u.contiguous()
    meta = {"format": "pt"}
    if alpha is not None:
        rank = next(iter(layers.values()))[0].shape[0]
        meta["lora_adapter_metadata"] = json.dumps({"transformer.lora_alpha": alpha, "transformer.r": rank,
                                                    "transformer.target_modules": sorted(layers)})
    meta.update(extra_meta or {})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file(sd, str(path), metadata=meta)
    return Path(path)


#: A LoRA for the tiny T2V model, for the real-ComfyUI LoRA test (no shipped workflow names it).
COMFY_LORA = "motioncomic_tiny_t2v.safetensors"


def install_for_workflows(models_dir: Path) -> None:
    """The text-to-video model the shipped T2V workflow names (``models/CogVideo/CogVideoX-5b/``)
    and :data:`COMFY_LORA` for it in ``models/CogVideo/loras/``."""
    import tiny_cogvideox as tc
    from flagship_graphs import T2V_MODEL

    target = Path(models_dir) / "CogVideo" / T2V_MODEL
    if not (target / "model_index.json").exists():
        tc.write_diffusers_folder(target, "1.0-t2v")
    lora = Path(models_dir) / "CogVideo" / "loras" / COMFY_LORA
    if not lora.exists():
        write_diffusers_lora(lora, random_layers(tc.build_transformer("1.0-t2v", 0), rank=4, std=0.5), alpha=4.0)


def write_kohya_lora(path: Path, layers: dict, alpha: float) -> Path:
    from safetensors.torch import save_file

    sd = {}
    for m, (d, u) in layers.items():
        k = "lora_unet_" + m.replace(".", "_")
        sd[k + ".lora_down.weight"] = d.contiguous()
        sd[k + ".lora_up.weight"] = u.contiguous()
        sd[k + ".alpha"] = torch.tensor(float(alpha))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file(sd, str(path))
    return Path(path)
