"""Weight-free frame interpolation: OpenCV DIS optical flow + torch warping where the frames are.

For a pair (I0, I1) and times t (the flows are computed once per pair and reused for every t):

1. DIS optical flow both ways, ``F01`` and ``F10``, on grey copies (downscaled when a side exceeds
   ``max_flow_side``, upscaled for the flow only when the frame is smaller than ``min_flow_side``).
   This is the only CPU step: the grey copies go to the CPU and the two flow fields come back.
2. Candidate flows from time t back to each frame (:mod:`.bilateral`): the *plain* estimate,
   ``F_t0 = t·F10`` and ``F_t1 = (1-t)·F01``; the *symmetric* one from the mean motion
   ``m = (F10 - F01) / 2`` seen from both frames, ``F_t0 = t·m``, ``F_t1 = -(1-t)·m``; and the
   symmetric one read ``SHIFT`` pixels right, left, below and above (at a motion boundary DIS's
   patches straddle the edge and the right motion is a few pixels away). Each warps I0 and I1 to t;
   the candidates are mixed per pixel with softmax weights of how much the two warped frames disagree
   (box-filtered squared difference): bilateral matching picks the motion that explains both frames.
3. Confidence-weighted fallback to the cross-fade: where even the chosen warps disagree as much as
   the two input frames differ (flow unreliable: occlusions, flicker, repeated frames), the result
   leans to ``(1-t)·I0 + t·I1``; where they agree it is the warped blend.
4. The final warp, at the frame's resolution, samples with the mean of the bilinear and the bicubic
   kernel (``warp_frames(sharp=True)``): sharper than bilinear, without bicubic's ringing; where the
   motion is large (tens of pixels) it is mixed with a short motion blur along the flow (timing hedge).

Measured on the real image-to-video clips of ``../shared/data/clips`` (benchmarks/interpolation.py,
docs/interpolation.md): +0.29 dB over a plain two-way DIS warp on all their triples and +0.38 on the
evenly timed ones (+3.13 over the cross-fade), at 2.3-2.6x its time; the splatting interpolator of
0.1.0 this replaced was 0.1-0.2 dB below the plain warp there at ~4x its time.

Warping and blending are torch on :attr:`FlowInterpolator.device` (the GPU inside ComfyUI when
there is one); the CPU test suite runs the same code on the CPU.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Sequence

from ..errors import MotionComicError
from .base import Interpolator, check_times

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger(__name__)

PRESETS = ("ultrafast", "fast", "medium")
MIN_FLOW_SIDE = 384
MAX_FLOW_SIDE = 640
#: Box radius (pixels) of the disagreement used to choose between the two flow estimates.
SELECT_RADIUS = 4
#: Box radius (pixels) of the confidence that falls back to the cross-fade.
CONFIDENCE_RADIUS = 6
#: Softness of the choice (squared-difference units): smaller = harder choice.
SOFTNESS = 1e-3
#: Timing hedge of :func:`compose`: the shift (a fraction of the pair's motion) and the motion, in
#: pixels, at which the blurred copy weighs a quarter.
HEDGE = 0.15
HEDGE_PIXELS = 20.0
#: Distance (pixels) of the neighbours whose motion is offered as candidates beside the pixel's own
#: (measured on the evenly timed triples of the real clips: 4, 6 and 8 within 0.005 dB; 0 = off).
SHIFT = 6


class FlowInterpolator(Interpolator):
    """DIS optical flow (OpenCV, CPU) with torch warping on ``device``; any ``t``, any size.

    Args:
        preset: DIS preset, ``ultrafast`` / ``fast`` / ``medium`` (default; the best measured).
        max_flow_side: the flow is computed on a copy whose longer side is at most this (flow
            vectors rescaled); measured: 640 loses nothing against 1024 on 1024x576 clips.
        min_flow_side: smaller frames are upscaled to this for the flow only (DIS builds too few
            pyramid levels on tiny frames and misses large motion); 0 = never upscale.
        device: where warping and blending run; default ComfyUI's device (the GPU if any).
    """

    midpoint_only = False
    multiple = 1

    def __init__(self, preset: str = "medium", max_flow_side: int = MAX_FLOW_SIDE,
                 min_flow_side: int = MIN_FLOW_SIDE, device=None):
        import torch

        from .. import host

        if preset not in PRESETS:
            raise MotionComicError(f"unknown optical-flow preset {preset!r}; use one of {PRESETS}")
        if max_flow_side < 16:
            raise MotionComicError(f"max_flow_side must be >= 16, got {max_flow_side}")
        self.preset = preset
        self.max_flow_side = int(max_flow_side)
        self.min_flow_side = max(0, min(int(min_flow_side), self.max_flow_side))
        self.device = torch.device(device) if device is not None else host.torch_device()
        self.name = f"optical flow ({preset})"
        self._dis = None

    # ------------------------------------------------------------------ interface
    def pair(self, a: "torch.Tensor", b: "torch.Tensor", t: float) -> "torch.Tensor":
        return self.pair_times(a, b, [t])

    def pair_times(self, a: "torch.Tensor", b: "torch.Tensor", times: Sequence[float]) -> "torch.Tensor":
        """Frames at ``times`` between ``a`` and ``b`` (``[1, H, W, 3]`` RGB 0..1): float32
        ``[len(times), H, W, 3]`` on ``a``'s device. One flow computation for all times."""
        import torch

        for x in (a, b):
            if x.ndim != 4 or x.shape[0] != 1 or x.shape[-1] != 3:
                raise MotionComicError(f"expected a frame [1, H, W, 3], got {tuple(x.shape)}")
        if a.shape != b.shape:
            raise MotionComicError(f"frames of different sizes: {tuple(a.shape)} vs {tuple(b.shape)}")
        check_times(times)

        with torch.no_grad():
            i0, i1 = (x.to(self.device, torch.float32).permute(0, 3, 1, 2) for x in (a, b))
            h, w = i0.shape[-2:]
            fh, fw = self.flow_size(h, w)
            small = fh * fw < h * w  # decide at the flow's resolution, warp at the frame's
            f01, f10 = self.flows(i0, i1, (fh, fw) if small else None)
            s0, s1 = (resize(x, (fh, fw)) for x in (i0, i1)) if small else (i0, i1)
            outs = []
            for t in times:
                ft0, ft1, confidence = decide(s0, s1, f01, f10, float(t), scale=fh / h if small else 1.0)
                if small:
                    ft0, ft1 = _resize_flows(ft0, ft1, h, w)
                    confidence = resize(confidence, (h, w))
                outs.append(compose(i0, i1, ft0, ft1, float(t), confidence))
            return torch.cat(outs, 0).permute(0, 2, 3, 1).to(a.device).contiguous()

    def release(self) -> None:
        self._dis = None

    # ------------------------------------------------------------------ steps
    def _flow_engine(self):
        import cv2

        if self._dis is None:
            preset = {
                "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
                "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
                "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
            }[self.preset]
            self._dis = cv2.DISOpticalFlow_create(preset)
        return self._dis

    def flow_size(self, h: int, w: int) -> tuple[int, int]:
        """(height, width) the flow is computed at for ``h`` x ``w`` frames."""
        scale = min(self.max_flow_side / max(h, w), max(1.0, self.min_flow_side / max(h, w)))
        return max(1, round(h * scale)), max(1, round(w * scale))

    def flows(self, i0: "torch.Tensor", i1: "torch.Tensor", size: tuple[int, int] | None = None
              ) -> tuple["torch.Tensor", "torch.Tensor"]:
        """DIS flows ``F01``, ``F10`` (``[1, 2, h, w]`` float32 pixels (dx, dy), on ``i0``'s device) of
        two frames ``[1, 3, H, W]``, at ``size`` (h, w) when given, else at the frames' size. Only the
        grey copies travel to the CPU and the flows back."""
        import numpy as np
        import torch

        h, w = i0.shape[-2:]
        fh, fw = self.flow_size(h, w)
        g = torch.cat([i0, i1], 0)
        g = (g * g.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        if (fh, fw) != (h, w):
            g = resize(g, (fh, fw))
        g = (g.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8)[:, 0].cpu().numpy()
        # DIS needs a few pixels to build its pyramid: tiny frames are padded for the flow only.
        ph, pw = max(0, 16 - fh), max(0, 16 - fw)
        g0, g1 = (np.pad(x, ((0, ph), (0, pw)), mode="edge") for x in (g[0], g[1]))
        dis = self._flow_engine()
        fl = np.stack([dis.calc(g0, g1, None)[:fh, :fw], dis.calc(g1, g0, None)[:fh, :fw]])
        fl = torch.from_numpy(fl).to(i0.device).permute(0, 3, 1, 2)
        want = size or (h, w)
        if (fh, fw) != want:
            return _resize_flows(fl[0:1], fl[1:2], *want)
        return fl[0:1], fl[1:2]


def _resize_flows(f01: "torch.Tensor", f10: "torch.Tensor", h: int, w: int):
    """Both flows resampled to ``h`` x ``w`` with their vectors rescaled."""
    import torch

    fl = torch.cat([f01, f10], 0)
    fh, fw = fl.shape[-2:]
    fl = resize(fl, (h, w))
    fl = fl * fl.new_tensor([w / fw, h / fh]).view(1, 2, 1, 1)
    return fl[0:1], fl[1:2]


def resize(x: "torch.Tensor", size: tuple[int, int]) -> "torch.Tensor":
    """``x [B, C, H, W]`` resampled to ``size`` (h, w): area average when shrinking, bilinear (pixel
    centres, as ``align_corners=False``) when growing. OpenCV on the CPU (torch's area mode is an
    adaptive pooling, ~10x slower there at non-integer ratios), torch elsewhere."""
    if x.device.type != "cpu":
        return resize_torch(x, size)
    import cv2
    import numpy as np
    import torch

    h, w = size
    mode = cv2.INTER_AREA if h * w < x.shape[-2] * x.shape[-1] else cv2.INTER_LINEAR
    b, c = x.shape[:2]
    src = x.detach().float().reshape(b * c, *x.shape[-2:]).numpy()
    out = np.stack([cv2.resize(np.ascontiguousarray(m), (w, h), interpolation=mode) for m in src])
    return torch.from_numpy(out).reshape(b, c, h, w).to(x.dtype)


def resize_torch(x: "torch.Tensor", size: tuple[int, int]) -> "torch.Tensor":
    """:func:`resize` as it runs off the CPU (torch on the tensor's device)."""
    import torch.nn.functional as F

    if size[0] * size[1] < x.shape[-2] * x.shape[-1]:
        return F.interpolate(x, size=size, mode="area")
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def decide(i0: "torch.Tensor", i1: "torch.Tensor", f01: "torch.Tensor", f10: "torch.Tensor", t: float,
           scale: float = 1.0, select_radius: int = SELECT_RADIUS, confidence_radius: int = CONFIDENCE_RADIUS,
           softness: float = SOFTNESS, shift: int = SHIFT
           ) -> tuple["torch.Tensor", "torch.Tensor", "torch.Tensor"]:
    """Per pixel: the flows from time ``t`` back to each frame, ``F_t0`` and ``F_t1`` (``[1, 2, h,
    w]``), a soft choice among the candidate estimates by bilateral agreement, and the confidence in
    the warp against the cross-fade (``[1, 1, h, w]``); computed from frames ``[1, 3, h, w]`` and
    flows ``[1, 2, h, w]`` at any working resolution (``scale`` = its size / the frame's; radii and
    the neighbours' distance follow it)."""
    from .bilateral import box, motion_at

    h, w = i0.shape[-2:]
    most = max(0, (min(h, w) - 1) // 2)  # boxes need at least a pixel on each side on tiny frames
    rs = min(most, max(1, round(select_radius * scale)))
    rc = min(most, max(1, round(confidence_radius * scale)))
    shift = min(most, max(1, round(shift * scale))) if shift > 0 else 0
    ft0, ft1, err = motion_at(i0, i1, f01, f10, t, shift, rs, softness)
    moved = box((i0 - i1).square().mean(1, keepdim=True), rc + rs)
    return ft0, ft1, moved / (moved + box(err, rc) + 1e-6)


def compose(i0: "torch.Tensor", i1: "torch.Tensor", ft0: "torch.Tensor", ft1: "torch.Tensor", t: float,
            confidence: "torch.Tensor", hedge: float = HEDGE, hedge_pixels: float = HEDGE_PIXELS
            ) -> "torch.Tensor":
    """The frame at ``t``: both frames warped with the flows ``F_t0``, ``F_t1`` of :func:`decide`
    (the sharper sample of ``warp_frames(sharp=True)``), blended ``(1-t, t)``, leaning to the
    cross-fade where the confidence is low. ``[1, 3, H, W]`` in 0..1.

    Timing hedge: where the motion ``v`` over the pair is large, the result is mixed with itself
    shifted by ``±hedge·v`` (weight ``(|v| / (|v| + hedge_pixels))²``, so ~0 below a few pixels): a
    fast part's exact position in between is the least certain thing about it, and the mean of the
    nearby positions is the better guess (as the motion blur of a real camera)."""
    from .warp import warp_frames

    out = (1 - t) * warp_frames(i0, ft0, sharp=True) + t * warp_frames(i1, ft1, sharp=True)
    if hedge > 0:  # a short motion blur along the motion where it is large (see the docstring)
        v = ft1 - ft0
        near = 0.5 * (warp_frames(out, hedge * v) + warp_frames(out, -hedge * v))
        speed = (v[:, 0:1].square() + v[:, 1:2].square()).sqrt_()  # (torch's norm over dim 1 is slow on CPU)
        weight = (speed / (speed + hedge_pixels)).square_()
        out = out + weight * (near - out)
    fade = (1 - t) * i0 + t * i1
    return (fade + confidence * (out - fade)).clamp_(0, 1)
