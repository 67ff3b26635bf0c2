"""``python -m motioncomic train-lora DATASET --model NAME -o OUT``: the argparse side (``cli.py``
only registers it). Defaults are the official CogVideoX LoRA recipe (``training/config.py``)."""
from __future__ import annotations

import argparse
import logging

from .config import DEFAULT_TARGETS, TrainConfig

log = logging.getLogger(__name__)


def add_parser(sub) -> argparse.ArgumentParser:
    d = TrainConfig()
    t = sub.add_parser("train-lora", help="train a CogVideoX image-to-video LoRA on a prepared dataset",
                       description="Train a CogVideoX 1.0/1.5 image-to-video LoRA on a dataset made by "
                                   "prepare-dataset. See docs/lora.md.")
    t.add_argument("dataset", help="dataset folder (manifest.jsonl + clips/), from prepare-dataset")
    t.add_argument("--model", required=True, help="CogVideoX I2V model folder/file name under the models dir, or a path")
    t.add_argument("--models-dir", help="ComfyUI-style models/ folder (default $MOTIONCOMIC_MODELS_DIR or ./models)")
    t.add_argument("-o", "--output", required=True, help="output folder: LoRA, checkpoints/, validation/, cache/")
    t.add_argument("--steps", type=int, default=d.steps, help=f"optimisation steps (default {d.steps})")
    t.add_argument("--rank", type=int, default=d.rank, help=f"LoRA rank (default {d.rank}; 64+ advised)")
    t.add_argument("--alpha", type=float, default=d.alpha, help=f"LoRA alpha (default {d.alpha:g}; rank or rank/2)")
    t.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                   help="comma-separated module names to adapt (default the attention projections)")
    t.add_argument("--lr", type=float, default=d.lr, help=f"learning rate (default {d.lr:g})")
    t.add_argument("--warmup", type=int, default=d.warmup, help=f"linear warmup steps (default {d.warmup})")
    t.add_argument("--batch-size", type=int, default=d.batch_size, help="clips per step (same aspect bucket)")
    t.add_argument("--frames", type=int, default=0, help="frames per clip (default: longest legal count all clips have)")
    t.add_argument("--resolution", type=int, default=0,
                   help="CogVideoX 1.5: short side of the training frame (default 768); 1.0 is fixed at 720x480")
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every, help="steps between checkpoints")
    t.add_argument("--keep-checkpoints", type=int, default=d.keep_checkpoints, help="checkpoints kept (newest)")
    t.add_argument("--validate-every", type=int, default=0, help="steps between validation clips (0 = none)")
    t.add_argument("--validation-steps", type=int, default=d.validation_steps, help="sampling steps of a validation clip")
    t.add_argument("--gradient-checkpointing", default="auto", choices=["auto", "on", "off"],
                   help="recompute activations to save memory (auto: on for GPUs)")
    t.add_argument("--dtype", default="auto", choices=["auto", "bf16", "fp16", "fp32"],
                   help="base weights dtype (auto: bf16 on GPUs, fp32 on CPU); LoRA weights train in fp32")
    t.add_argument("--device", default=None, help="cuda / cpu (default: best available)")
    again = t.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue the run in OUTPUT exactly where it stopped")
    again.add_argument("--force", action="store_true", help="discard OUTPUT's checkpoints and start over")
    return t


def run(args) -> int:
    from pathlib import Path

    from .. import host
    from .train import train_lora

    if args.models_dir:
        host.set_models_dir(args.models_dir)
    config = TrainConfig(
        steps=args.steps, rank=args.rank, alpha=args.alpha, lr=args.lr, warmup=args.warmup,
        targets=tuple(t.strip() for t in args.targets.split(",") if t.strip()), batch_size=args.batch_size,
        frames=args.frames, resolution=args.resolution, seed=args.seed, checkpoint_every=args.checkpoint_every,
        keep_checkpoints=args.keep_checkpoints, validate_every=args.validate_every,
        validation_steps=args.validation_steps, gradient_checkpointing=args.gradient_checkpointing, dtype=args.dtype)
    typed = Path(args.model).expanduser()
    model = typed if typed.is_absolute() else args.model  # a path the user typed, else a name in models/
    result = train_lora(args.dataset, model, args.output, config, device=args.device, resume=args.resume,
                        force=args.force)
    print(result.lora)
    return 0
