"""Checkpoints of a LoRA run: the adapter in the diffusers layout (loadable by the LoRA node and
by diffusers' ``load_lora_weights``) plus everything an exact resume needs.

``OUT/checkpoints/step-000100/``:

- ``pytorch_lora_weights.safetensors``: ``transformer.<module>.lora_A/B.weight`` in float32, with
  diffusers' ``lora_adapter_metadata`` (``transformer.r``, ``transformer.lora_alpha``,
  ``transformer.target_modules``) and ``motioncomic.base`` (the variant it was trained on, so the
  LoRA layer refuses it on another base);
- ``state.pt``: step, optimizer state, the training generator's state, the loss history and the
  settings (read back with ``torch.load(weights_only=True)``).

A checkpoint is written to a temporary folder and renamed into place, so a run killed while
saving leaves the previous checkpoint intact; only the newest ``keep`` are kept.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

LORA_FILE = "pytorch_lora_weights.safetensors"
STATE_FILE = "state.pt"
_STEP = re.compile(r"^step-(\d+)$")


def lora_state(transformer, adapter: str = "default") -> dict:
    """The trainable LoRA tensors under diffusers names (``transformer.<module>.lora_A.weight``)."""
    return {"transformer." + n.replace(f".{adapter}.", "."): p.detach().float().cpu().clone()
            for n, p in transformer.named_parameters() if "lora_" in n and p.requires_grad}


def lora_metadata(config, variant: str, step: int) -> dict[str, str]:
    peft_meta = {"transformer.r": config.rank, "transformer.lora_alpha": config.alpha,
                 "transformer.target_modules": list(config.targets), "transformer.init_lora_weights": True}
    return {"format": "pt", "lora_adapter_metadata": json.dumps(peft_meta, sort_keys=True),
            "motioncomic.base": f"cogvideox-{variant}", "motioncomic.lora_alpha": str(config.alpha),
            "motioncomic.rank": str(config.rank), "motioncomic.step": str(step)}


def write_lora(path: Path, transformer, config, variant: str, step: int) -> Path:
    from safetensors.torch import save_file

    save_file(lora_state(transformer), str(path), metadata=lora_metadata(config, variant, step))
    return path


def save(out: Path, step: int, transformer, optimizer, gen_state, losses: list[float], config, variant: str) -> Path:
    """Write checkpoint ``step`` atomically and prune old ones; returns its folder."""
    import torch

    root = out / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:06d}"
    tmp = root / f".step-{step:06d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    write_lora(tmp / LORA_FILE, transformer, config, variant, step)
    torch.save({"step": step, "optimizer": optimizer.state_dict(), "rng": gen_state, "losses": list(losses),
                "config": config.to_dict(), "variant": variant}, tmp / STATE_FILE)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    for old in list_checkpoints(out)[: -config.keep_checkpoints]:
        shutil.rmtree(old, ignore_errors=True)
    log.info("checkpoint %s", final)
    return final


def list_checkpoints(out: Path) -> list[Path]:
    """Complete checkpoint folders of ``out``, oldest first."""
    root = Path(out) / "checkpoints"
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _STEP.match(p.name)) and (p / STATE_FILE).is_file()]
    return [p for _, p in sorted(found)]


def read_state(folder: Path) -> dict:
    """The state of checkpoint ``folder``: step, optimizer, rng, losses, config, variant."""
    import torch

    return torch.load(folder / STATE_FILE, weights_only=True, map_location="cpu")


def load(folder: Path, state: dict, transformer, optimizer) -> None:
    """Restore LoRA weights and optimizer state of checkpoint ``folder`` (``state`` = its
    :func:`read_state`)."""
    import torch
    from safetensors.torch import load_file

    saved = load_file(str(folder / LORA_FILE))
    with torch.no_grad():
        for n, p in transformer.named_parameters():
            if "lora_" in n and p.requires_grad:
                p.copy_(saved["transformer." + n.replace(".default.", ".")].to(p.device, p.dtype))
    optimizer.load_state_dict(state["optimizer"])
