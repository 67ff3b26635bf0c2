"""Deterministic weights and frames for the SGM-VFI port tests (also used to make the expected data).

The expected outputs in ``tests/data/sgm_vfi/`` were computed by running the upstream SGM-VFI code
(its cupy splatting replaced by a CPU equivalent) with parameters set by :func:`seeded_init` and on
frames from :func:`make_frames`; both depend only on parameter *names and shapes*, so the port and
the upstream network get identical weights without shipping ~20 M parameters.
"""
from __future__ import annotations

import math

import numpy as np
import torch


def seeded_init(module: torch.nn.Module, seed: int = 0) -> None:
    """Fill every parameter of ``module`` from one seeded generator, in sorted-name order.

    Matrices/kernels get N(0, 1/fan_in) (keeps activations in range through deep stacks), 1-D
    weights (norm gains, PReLU slopes) U(0.5, 1), biases N(0, 0.05^2).
    """
    gen = torch.Generator().manual_seed(seed)
    params = dict(module.named_parameters())
    with torch.no_grad():
        for name in sorted(params):
            p = params[name]
            if p.dim() > 1:
                fan_in = p[0].numel()
                v = torch.randn(p.shape, generator=gen) / math.sqrt(fan_in)
            elif name.endswith("bias"):
                v = torch.randn(p.shape, generator=gen) * 0.05
            else:
                v = 0.5 + 0.5 * torch.rand(p.shape, generator=gen)
            p.copy_(v.to(p.dtype))


def make_frames(height: int, width: int, shift: tuple[float, float] = (7.0, -5.0)) -> tuple[np.ndarray, np.ndarray]:
    """Two float32 ``[H, W, 3]`` frames in 0..1: a smooth textured background and a disc that moves.

    Pure closed-form float64 maths, so the pixels do not depend on library versions.
    """
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)

    def frame(dx: float, dy: float) -> np.ndarray:
        x, y = xx - dx, yy - dy
        r = 0.5 + 0.25 * np.sin(x * 0.21 + y * 0.07) + 0.2 * np.cos(y * 0.13)
        g = 0.5 + 0.3 * np.sin(x * 0.05 - y * 0.17 + 1.0)
        b = 0.5 + 0.25 * np.cos((x + y) * 0.11) * np.sin(x * 0.03)
        img = np.stack([r, g, b], -1)
        cy, cx = height * 0.45 + 2.0 * dy, width * 0.4 + 2.0 * dx
        disc = np.clip(6.0 - np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2) / 2.0, 0.0, 1.0)[..., None]
        img = img * (1 - disc) + disc * np.array([0.9, 0.2, 0.1])
        return np.clip(img, 0.0, 1.0).astype(np.float32)

    return frame(0.0, 0.0), frame(*shift)
