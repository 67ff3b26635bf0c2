"""Load RIFE 4.6+ from the files users have and wrap it as an :class:`Interpolator`.

Files: Practical-RIFE's ``flownet.pkl`` (a ``module.``-prefixed state dict, one per release; rename
it, e.g. ``rife425.pkl``, when you keep several) in ``models/vfi/``, and ComfyUI-Frame-Interpolation's
``rife47.pth``, ``rife49.pth``, ``rife417.pth``, ``rife426.pth``… (plain state dicts) in
``models/vfi/`` or that pack's own ``ckpts/rife/`` folder (registered as an extra ``vfi`` location,
see :func:`motioncomic.host.register_model_folders`). The version is read from the tensors
(:func:`.layouts.identify`), never from the file name.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F

from ... import host
from ...errors import CheckpointError, MotionComicError
from ...loaders.checkpoints import assign_tensors, read_state_dict
from ..base import Interpolator, check_times, torch_dtype
from .layouts import RELEASES, RIFELayout, identify
from .network import IFNet

log = logging.getLogger(__name__)

SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)
#: ``scale="auto"``: frames with more pixels than this (above 1440p) get scale 0.5, as Practical-RIFE
#: advises for 4K (the flow of a 4K frame at full resolution is slower and, for large motion, worse).
AUTO_HALF_ABOVE = 2560 * 1440
#: Times synthesised per forward pass (one batch); bounds memory for large multipliers.
TIME_BATCH = 4


def read_rife(path: str | Path) -> tuple[dict, RIFELayout]:
    """State dict (prefixes stripped) and layout of a RIFE file. Raises :class:`CheckpointError`."""
    path = Path(path)
    sd = read_state_dict(path)
    return sd, identify({k: tuple(v.shape) for k, v in sd.items()}, path.name)


def build_ifnet(sd: dict, layout: RIFELayout, dtype=torch.float32, device="cpu", source: str = "checkpoint") -> IFNet:
    """IFNet built on the meta device with the checkpoint's tensors assigned (one copy in memory).

    Tensors upstream's non-strict load ignores (training-only ``teacher``/``caltime`` blocks) are
    ignored too; missing ones are an error (upstream would keep random weights silently).
    """
    with torch.device("meta"):
        net = IFNet(layout)
    missing, unexpected = assign_tensors(net, sd.items(), dtype=dtype, device=device)
    if missing:
        raise CheckpointError(f"{source} lacks {len(missing)} tensors of the RIFE {layout.label} network "
                              f"(e.g. {', '.join(missing[:4])}): the file is incomplete.")
    if unexpected:
        log.debug("RIFE: ignored %d tensors not used at inference (e.g. %s)", len(unexpected), unexpected[:3])
    return net.eval().requires_grad_(False)


def load_rife(path, dtype="auto", device=None, scale: float | str = 1.0, ensemble: bool = False
              ) -> "RIFEInterpolator":
    """RIFE from a ``flownet.pkl`` / ``rife4x.pth`` (or a ``.safetensors`` conversion).

    Args:
        path: a file path, or a name inside the ``vfi`` model folders.
        dtype: ``"auto"`` (fp16 on CUDA, fp32 elsewhere), fp32, fp16 or bf16.
        device: torch device; default ComfyUI's / the best available.
        scale: flow resolution, one of 0.25, 0.5, 1, 2, 4 (upstream's ``--scale``; 0.5 for 4K), or
            ``"auto"``: 1, and 0.5 for frames above :data:`AUTO_HALF_ABOVE` pixels.
        ensemble: also run each block on the swapped pair and average (RIFE <= 4.20 and 4.24).
    Raises:
        CheckpointError: not RIFE, an unsupported version, truncated or incomplete.
        ModelNotFoundError: the file is not in the model folders.
    """
    # a Path is the caller's own (taken as is); a str is a name inside the vfi folders (confined)
    ckpt = host.find_model("vfi", path, f"Put a RIFE 4.6+ file in models/vfi/ ({RELEASES}).", what="RIFE file")
    scale = check_scale(scale)
    sd, layout = read_rife(ckpt)
    if ensemble and not layout.ensemble_supported:
        raise MotionComicError(f"{ckpt.name} is RIFE {layout.label}, which has no ensemble mode (dropped in 4.21); "
                               "set ensemble off")
    dev = torch.device(device) if device is not None else host.torch_device()
    dt = torch_dtype(dtype, dev, "RIFE")
    net = build_ifnet(sd, layout, dt, dev, ckpt.name)
    log.info("RIFE %s from %s (%s, %s)", layout.label, ckpt, dt, dev)
    interp = RIFEInterpolator(net, dt, dev, scale=scale, ensemble=ensemble)
    host.manage(interp, {"ifnet": net}, interp.name, dev)  # ComfyUI counts it and may unload it
    return interp


def check_scale(scale: float | str | None) -> float | None:
    """A RIFE ``scale`` as a float, or None for ``"auto"``. Raises naming the valid values."""
    if scale is None or scale == "auto":
        return None
    try:
        value = float(scale)
    except (TypeError, ValueError):
        value = None
    if value not in SCALES:
        raise MotionComicError(f"RIFE scale must be auto or one of {', '.join(f'{s:g}' for s in SCALES)} "
                               f"(0.5 for 4K frames), got {scale!r}")
    return value


def scale_for(scale: float | None, h: int, w: int) -> float:
    """The scale a ``h`` x ``w`` pair runs at (``None`` = auto, see :data:`AUTO_HALF_ABOVE`)."""
    if scale is not None:
        return scale
    return 0.5 if h * w > AUTO_HALF_ABOVE else 1.0


class RIFEInterpolator(Interpolator):
    """Frames at any time ``t`` from RIFE 4.6+; frames are padded (replicate) to the net's multiple
    at the pair's scale (``scale=None``: auto, chosen per frame size)."""

    midpoint_only = False

    def __init__(self, net: IFNet, dtype=torch.float32, device=None, scale: float | None = 1.0,
                 ensemble: bool = False):
        self.net = net
        self.dtype = dtype
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.scale = None if scale is None else float(scale)
        self.ensemble = bool(ensemble)
        self.multiple = self._multiple(self.scale or 1.0)  # the entry pads to this; pair_times to its own scale's
        self.name = f"rife {net.layout.label}" + (" ensemble" if self.ensemble else "") + \
            (f" scale {self.scale:g}" if self.scale not in (None, 1.0) else "")
        self.patchers: dict = {}  # ComfyUI's ModelPatcher for the net, kept alive by this object

    def _multiple(self, scale: float) -> int:
        modulo = self.net.layout.modulo
        return max(modulo, int(modulo / scale))

    def pair(self, a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
        return self.pair_times(a, b, [t])

    def pair_times(self, a: torch.Tensor, b: torch.Tensor, times: Sequence[float]) -> torch.Tensor:
        """Frames at ``times`` between ``a`` and ``b`` (``[1, H, W, 3]`` RGB 0..1, any size).

        Returns float32 ``[len(times), H, W, 3]`` on ``a``'s device. All times of a pair run in
        batches of :data:`TIME_BATCH` through one forward pass each.
        """
        if a.dim() != 4 or a.shape != b.shape or a.shape[0] != 1 or a.shape[-1] != 3:
            raise MotionComicError(f"RIFE needs two frames [1,H,W,3] of one size, got {tuple(a.shape)} and {tuple(b.shape)}")
        check_times(times)
        h, w = a.shape[1], a.shape[2]
        scale = scale_for(self.scale, h, w)
        m = self._multiple(scale)
        x0, x1 = (x.permute(0, 3, 1, 2).to(device=self.device, dtype=self.dtype) for x in (a, b))
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            x0, x1 = (F.pad(x, (0, pw, 0, ph), mode="replicate") for x in (x0, x1))
        outs = []
        try:
            with host.on_device(self.net, self.device, offload=False), torch.inference_mode():
                for k in range(0, len(times), TIME_BATCH):
                    chunk = torch.tensor([float(t) for t in times[k:k + TIME_BATCH]], device=self.device)
                    n = chunk.shape[0]
                    pred, _ = self.net(x0.expand(n, -1, -1, -1), x1.expand(n, -1, -1, -1), chunk.view(n, 1, 1, 1),
                                       scale, self.ensemble)
                    outs.append(pred[:, :, :h, :w].float().clamp_(0, 1))
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is translated
            if host.is_oom(exc):
                self.release()
                raise MotionComicError(f"out of memory running RIFE on {w}x{h} frames on {self.device}: use fp16, "
                                       "scale 0.5, or method 'flow'") from exc
            raise
        return torch.cat(outs, 0).permute(0, 2, 3, 1).to(a.device).contiguous()

    def release(self) -> None:
        host.soft_empty_cache()
