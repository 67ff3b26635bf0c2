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
saving leaves the previous checkpoint intact; only the newest ``keep`` are kept. One damaged
anyway (a disk error, a copy cut short) is refused with a :class:`CheckpointError` naming its
folder: delete it to resume from the one before, or start over with ``--force``.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

from ..errors import CheckpointError

log = logging.getLogger(__name__)

LORA_FILE = "pytorch_lora_weights.safetensors"
STATE_FILE = "state.pt"
_STEP = re.compile(r"^step-(\d+)$")


def _lora_params(transformer, adapter: str = "default") -> dict:
    """The trainable LoRA parameters under diffusers names (``transformer.<module>.lora_A.weight``)."""
    return {"transformer." + n.replace(f".{adapter}.", "."): p
            for n, p in transformer.named_parameters() if "lora_" in n and p.requires_grad}


def lora_state(transformer, adapter: str = "default") -> dict:
    """The trainable LoRA tensors under diffusers names, as float32 CPU copies."""
    return {k: p.detach().float().cpu().clone() for k, p in _lora_params(transformer, adapter).items()}


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


def damaged(folder: Path, why: str) -> CheckpointError:
    """The error for checkpoint ``folder`` that cannot be resumed: why, and the two ways on."""
    return CheckpointError(f"the checkpoint {folder} cannot be resumed: {why}. Delete the folder {folder.name} to "
                           "resume from the checkpoint before it (or from the start when it is the only one), or "
                           "use --force to start over.")


def read_state(folder: Path) -> dict:
    """The state of checkpoint ``folder``: step, optimizer, rng, losses, config (a ``TrainConfig``),
    variant. Refuses (:func:`damaged`) an unreadable or incomplete ``state.pt`` and a LoRA file that is
    missing or cut short, so a damaged checkpoint is reported before any model weight is read."""
    import torch
    from safetensors import safe_open

    from .config import TrainConfig

    try:
        state = torch.load(folder / STATE_FILE, weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - a cut file raises EOFError, RuntimeError, UnpicklingError...
        raise damaged(folder, f"{STATE_FILE} is unreadable ({type(exc).__name__}: {exc})") from None
    kinds = {"step": int, "optimizer": dict, "rng": torch.Tensor, "losses": list, "config": dict}
    wrong = [k for k, kind in kinds.items() if not isinstance(state, dict) or not isinstance(state.get(k), kind)]
    if wrong:
        raise damaged(folder, f"{STATE_FILE} has no valid {', '.join(wrong)}")
    try:
        state["config"] = TrainConfig.from_dict(state["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise damaged(folder, f"the settings in {STATE_FILE} are incomplete ({type(exc).__name__}: {exc})") from None
    try:
        with safe_open(str(folder / LORA_FILE), "pt"):  # checks the header and that the file is whole
            pass
    except Exception as exc:  # noqa: BLE001 - missing (OSError) or cut short (SafetensorError)
        raise damaged(folder, f"{LORA_FILE} is missing or unreadable ({exc})") from None
    return state


def load(folder: Path, state: dict, transformer, optimizer, generator) -> None:
    """Restore LoRA weights, optimizer and generator state of checkpoint ``folder`` (``state`` = its
    :func:`read_state`). Everything is checked before the transformer's weights are changed."""
    import torch
    from safetensors.torch import load_file

    try:
        saved = load_file(str(folder / LORA_FILE))
    except Exception as exc:  # noqa: BLE001 - changed since read_state
        raise damaged(folder, f"{LORA_FILE} is unreadable ({exc})") from None
    params = _lora_params(transformer)
    missing = [k for k in params if k not in saved]
    wrong = [k for k, p in params.items() if k in saved and saved[k].shape != p.shape]
    if missing or wrong:
        what = [f"{len(missing)} of the run's {len(params)} LoRA tensors are missing"] if missing else []
        what += [f"{len(wrong)} have another shape"] if wrong else []
        names = ", ".join((missing + wrong)[:3]) + (", ..." if len(missing) + len(wrong) > 3 else "")
        raise damaged(folder, f"in {LORA_FILE} {' and '.join(what)} ({names})")
    try:
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["rng"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise damaged(folder, f"its optimizer or generator state does not fit this run ({exc})") from None
    with torch.no_grad():
        for k, p in params.items():
            p.copy_(saved[k].to(p.device, p.dtype))
