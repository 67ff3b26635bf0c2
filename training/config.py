"""Settings of a LoRA training run (``train-lora``), with the official CogVideoX recipe as defaults.

Defaults follow THUDM/CogVideo ``finetune/`` (``schemas/args.py``): rank 128, alpha 64 (their
README recommends alpha = rank or rank/2), targets ``to_q, to_k, to_v, to_out.0``, AdamW lr 2e-5,
betas (0.9, 0.95), weight decay 1e-4, eps 1e-8, gradient clipping 1.0, constant lr after a
linear warmup of 100 steps, gradient checkpointing on GPU.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ..errors import MotionComicError

DEFAULT_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")


@dataclass
class TrainConfig:
    """One run's settings (saved in every checkpoint; a resume must use the same ones).

    ``frames`` 0 = the longest frame count the model allows that every clip has; ``resolution``
    0 = the model's short side (CogVideoX 1.5: 768; 1.0 is fixed at 480x720). ``validate_every``
    0 = no validation clips. ``gradient_checkpointing`` auto = on for GPUs, off on the CPU.
    """

    steps: int = 1000
    rank: int = 128
    alpha: float = 64.0
    targets: tuple[str, ...] = DEFAULT_TARGETS
    lr: float = 2e-5
    warmup: int = 100
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = 1e-4
    eps: float = 1e-8
    max_grad_norm: float = 1.0
    batch_size: int = 1
    frames: int = 0
    resolution: int = 0
    seed: int = 42
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    validate_every: int = 0
    validation_steps: int = 25
    gradient_checkpointing: str = "auto"
    dtype: str = "auto"
    #: image noise augmentation: log(sigma) ~ N(mean, std), as the official trainer
    image_noise_mean: float = -3.0
    image_noise_std: float = 0.5
    extra: dict = field(default_factory=dict)

    def check(self) -> "TrainConfig":
        ints = {"steps": 1, "rank": 1, "batch_size": 1, "checkpoint_every": 1, "keep_checkpoints": 1,
                "validation_steps": 1}
        for name, low in ints.items():
            if int(getattr(self, name)) < low:
                raise MotionComicError(f"--{name.replace('_', '-')} must be at least {low}, got {getattr(self, name)}")
        for name in ("lr", "alpha"):
            v = float(getattr(self, name))
            if not math.isfinite(v) or v <= 0:
                raise MotionComicError(f"--{name} must be a positive number, got {v}")
        if not self.targets:
            raise MotionComicError("--targets is empty; name the modules to train, e.g. to_q,to_k,to_v,to_out.0")
        if self.gradient_checkpointing not in ("auto", "on", "off"):
            raise MotionComicError("--gradient-checkpointing must be auto, on or off")
        return self

    def to_dict(self) -> dict:
        d = asdict(self)
        d["targets"], d["betas"] = list(self.targets), list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        d["targets"], d["betas"] = tuple(d["targets"]), tuple(d["betas"])
        return cls(**d)

    def same_run(self, other: "TrainConfig") -> list[str]:
        """Settings that differ from ``other`` in ways that change the result (steps may grow)."""
        a, b = self.to_dict(), other.to_dict()
        return [k for k in a if k not in ("steps", "checkpoint_every", "keep_checkpoints", "validate_every",
                                          "validation_steps", "extra") and a[k] != b[k]]

    def lr_at(self, step: int) -> float:
        """Learning rate of optimisation step ``step`` (0-based): linear warmup, then constant."""
        return self.lr * min(1.0, (step + 1) / self.warmup) if self.warmup > 0 else self.lr
