"""Cross-fade: the in-between frame as ``(1 - t)·a + t·b``.

Not a real interpolator (moving content ghosts); it is the baseline the optical-flow method is
measured against in tests and ``benchmarks/interpolation.py``, and a cheap way to exercise the
streaming machinery.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Interpolator, check_times

if TYPE_CHECKING:  # pragma: no cover
    import torch


class CrossfadeInterpolator(Interpolator):
    """Linear blend of the two frames; any ``t``, any size."""

    name = "cross-fade"
    midpoint_only = False
    multiple = 1

    def pair(self, a: "torch.Tensor", b: "torch.Tensor", t: float) -> "torch.Tensor":
        check_times([t])
        return (a.float() * (1.0 - t) + b.float() * t).clamp_(0.0, 1.0)
