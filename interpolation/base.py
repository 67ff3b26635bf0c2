"""The interface every frame interpolator implements (optical flow, SGM-VFI, ...).

Contract (read this if you write an interpolator):

* Frames are ComfyUI-style, channels last: ``a`` and ``b`` are float32 tensors ``[1, H, W, 3]``,
  RGB in 0..1. The entry moves every input frame **once** to :attr:`Interpolator.device` (where the
  interpolator computes: ComfyUI's GPU, or the CPU) and hands ``pair`` those device tensors; ``pair``
  returns ``[1, H, W, 3]`` float32 in 0..1 **on the device of** ``a`` (no round trip to the CPU per
  call; the entry copies each output frame once into the output). It never modifies ``a`` or ``b``.
* **Padding is done by the entry, not by the interpolator**: :func:`motioncomic.interpolation.
  interpolate` pads every frame once (replicate padding on the bottom/right) so that ``H`` and ``W``
  are multiples of :attr:`Interpolator.multiple`, calls ``pair`` on the padded frames and crops the
  results back. So ``pair`` may assume ``H % multiple == 0 and W % multiple == 0`` (it may raise a
  ``MotionComicError`` otherwise). Callers that use ``pair`` directly can use
  :func:`pad_to_multiple` / :func:`crop_to` from this module.
* ``t`` is the time of the wanted frame between ``a`` (t = 0) and ``b`` (t = 1), 0 < t < 1.
  Models trained only at t = 0.5 set ``midpoint_only = True``: the entry then only ever asks for
  ``t = 0.5`` and builds other times by recursive midpoints (so it needs multipliers that are powers
  of two for exact times; other multipliers use the nearest dyadic time, see ``interpolate``).
* :meth:`Interpolator.pair_times` asks for several times of one pair at once; the default calls
  ``pair`` per time; interpolators with per-pair work (e.g. optical flow) override it.
* :meth:`Interpolator.release` frees per-clip caches and accelerator memory (the entry calls it
  after a clip and on cancel/error); the object stays usable after it.
* Errors the user can act on raise :class:`motioncomic.errors.MotionComicError` subclasses.

SGM-VFI: ``interpolation/sgm_vfi/loader.py`` provides ``load_sgm_vfi(path, variant="auto",
dtype=..., device=...) -> Interpolator`` with ``midpoint_only = True`` and ``multiple = 32``.
The weight-free optical-flow interpolator lives in ``interpolation/flow.py``
(``midpoint_only = False``, ``multiple = 1``).

Nothing heavy is imported at module level (this file is imported by node modules).
"""
from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import torch


class Interpolator(abc.ABC):
    """Synthesises in-between frames for one pair of frames.

    Attributes:
        name: short human-readable name, e.g. ``"optical flow"`` or ``"sgm_vfi small"``.
        midpoint_only: True if the model can only produce t = 0.5 (the entry recurses).
        multiple: frame height and width must be multiples of this (the entry pads).
    """

    name: str = "interpolator"
    midpoint_only: bool = False
    multiple: int = 1
    #: Where ``pair`` computes; the entry moves frames here once. ``None`` = wherever frames are.
    device = None

    @abc.abstractmethod
    def pair(self, a: "torch.Tensor", b: "torch.Tensor", t: float) -> "torch.Tensor":
        """The frame at time ``t`` between ``a`` and ``b``.

        Args:
            a, b: float32 ``[1, H, W, 3]`` in 0..1 (on :attr:`device` when called by the entry), ``H``
                and ``W`` multiples of :attr:`multiple`.
            t: 0 < t < 1 (always 0.5 when :attr:`midpoint_only`).
        Returns:
            float32 ``[1, H, W, 3]`` in 0..1 on ``a``'s device (a new tensor).
        """

    def pair_times(self, a: "torch.Tensor", b: "torch.Tensor", times: Sequence[float]) -> "torch.Tensor":
        """Frames at several ``times`` between ``a`` and ``b``: float32 ``[len(times), H, W, 3]``."""
        import torch

        return torch.cat([self.pair(a, b, float(t)) for t in times], dim=0)

    def release(self) -> None:
        """Free caches and accelerator memory held for the current clip (object stays usable)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} midpoint_only={self.midpoint_only} multiple={self.multiple}>"


def check_times(times: Sequence[float]) -> None:
    """Refuse times outside (0, 1) with a message that says what ``t`` is."""
    from ..errors import MotionComicError

    bad = [t for t in times if not 0.0 < float(t) < 1.0]
    if bad:
        raise MotionComicError(f"time t={bad[0]} is outside (0, 1): t is the position between the two frames "
                               "(0.5 = halfway); the frames themselves are at 0 and 1")


def pad_to_multiple(x: "torch.Tensor", multiple: int) -> "torch.Tensor":
    """Replicate-pad ``[B, H, W, C]`` on the bottom/right so H and W are multiples of ``multiple``."""
    import torch.nn.functional as F

    if multiple <= 1:
        return x
    h, w = x.shape[1], x.shape[2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    y = F.pad(x.permute(0, 3, 1, 2), (0, pw, 0, ph), mode="replicate")
    return y.permute(0, 2, 3, 1).contiguous()


def crop_to(x: "torch.Tensor", height: int, width: int) -> "torch.Tensor":
    """Undo :func:`pad_to_multiple`: the top-left ``height`` x ``width`` of ``[B, H, W, C]``."""
    return x[:, :height, :width, :]


_DTYPES = {"fp32": "float32", "float32": "float32", "fp16": "float16", "float16": "float16", "half": "float16",
           "bf16": "bfloat16", "bfloat16": "bfloat16"}


def torch_dtype(dtype, device=None, what: str = "the interpolator") -> "torch.dtype":
    """``"auto"`` (fp16 on CUDA, fp32 elsewhere), a name (fp32/fp16/bf16, float16, ...) or a dtype.

    Raises :class:`~motioncomic.errors.MotionComicError` naming the valid values.
    """
    import torch

    from ..errors import MotionComicError

    if isinstance(dtype, torch.dtype) and dtype in (torch.float32, torch.float16, torch.bfloat16):
        return dtype
    if dtype == "auto":
        return torch.float16 if torch.device(device or "cpu").type == "cuda" else torch.float32
    if isinstance(dtype, str) and dtype.lower() in _DTYPES:
        return getattr(torch, _DTYPES[dtype.lower()])
    raise MotionComicError(f"unsupported dtype {dtype!r} for {what}; use auto, float32, float16 or bfloat16")
