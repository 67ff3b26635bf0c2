"""Load SGM-VFI from the official checkpoints and wrap it as an :class:`Interpolator`.

Files (``models/vfi/``): ``ours-1-2-points.pkl`` (small model with sparse global matching),
``ours-local.pkl`` (its local branch alone), optionally base-size checkpoints of the same layout,
and ``gmflow_sintel-0c07dcb3.pth`` (needed only when the SGM-VFI checkpoint lacks the GMFlow part).
See ``docs/sgm_vfi.md``.
"""
from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F

from ... import host
from ...errors import CheckpointError, MotionComicError, ModelNotFoundError
from ...loaders.checkpoints import assign_tensors
from ..base import Interpolator, torch_dtype
from .network import SGMVFI, SGMConfig
from .weights import GMFLOW_FILE, RELEASE, infer_config, read_checkpoint, read_gmflow

log = logging.getLogger(__name__)

MULTIPLE = 32
_WIDTHS = {"small": 16, "base": 32}


def _find_gmflow(ckpt: Path, gmflow_path) -> Path:
    if gmflow_path is not None:
        p = Path(gmflow_path)
        if not p.is_file():
            raise ModelNotFoundError(f"GMFlow weights {p} not found. Download {GMFLOW_FILE} ({RELEASE}).")
        return p
    candidates = [ckpt.parent / GMFLOW_FILE] + [root / GMFLOW_FILE for root in host.search_paths("vfi")]
    for c in candidates:
        if c.is_file():
            return c
    raise ModelNotFoundError(
        f"{ckpt.name} does not contain the GMFlow feature network, and {GMFLOW_FILE} was not found "
        f"(looked in: {', '.join(str(c.parent) for c in candidates)}). Download {GMFLOW_FILE} "
        f"({RELEASE}) and put it in models/vfi/ next to the SGM-VFI checkpoint."
    )


def load_sgm_vfi(path, gmflow_path=None, variant: str = "auto", dtype=torch.float32,
                 device=None) -> "SGMVFIInterpolator":
    """Build SGM-VFI from an official checkpoint.

    Args:
        path: ``ours-1-2-points.pkl`` / ``ours-local.pkl`` (or a same-layout base checkpoint, or a
            ``.safetensors`` conversion); a name inside ``models/vfi/`` is resolved there.
        gmflow_path: ``gmflow_sintel-0c07dcb3.pth``; looked for beside ``path`` and in
            ``models/vfi/`` when the checkpoint lacks the GMFlow weights.
        variant: ``"auto"`` (from tensor shapes), ``"small"`` (F=16) or ``"base"`` (F=32); a
            mismatch with the checkpoint is an error.
        dtype: float32 (reference), float16 or bfloat16 (weights and activations; matching and
            splatting run in float32).
        device: torch device; default: ComfyUI's / the best available.
    Raises:
        CheckpointError: not SGM-VFI, wrong variant, missing or mis-shaped tensors, unreadable file.
        ModelNotFoundError: file (or the needed GMFlow file) not found.
    """
    ckpt = Path(path)
    if not ckpt.exists():
        ckpt = host.find_model("vfi", str(path), f"Download ours-1-2-points.pkl from {RELEASE}.")
    sd = read_checkpoint(ckpt)
    cfg = infer_config(sd, ckpt)
    if variant not in ("auto", *_WIDTHS):
        raise MotionComicError(f"unknown SGM-VFI variant {variant!r}; use auto, small or base")
    if variant != "auto" and _WIDTHS[variant] != cfg.width:
        raise CheckpointError(f"{ckpt.name} is the {cfg.name} model (F={cfg.width}), not {variant!r}; "
                              "choose variant 'auto'")
    if cfg.global_branch and not any(k.startswith("gmflow.") for k in sd):
        gm = _find_gmflow(ckpt, gmflow_path)
        sd.update(read_gmflow(gm))
        log.info("SGM-VFI: GMFlow weights from %s", gm)
    dev = torch.device(device) if device is not None else host.torch_device()
    dtype = torch_dtype(dtype, dev, "SGM-VFI")
    return SGMVFIInterpolator(build_network(sd, cfg, dtype, dev, ckpt.name), dtype, dev)


def build_network(sd: dict, cfg: SGMConfig, dtype: torch.dtype, device, source: str = "checkpoint") -> SGMVFI:
    """Instantiate on the meta device and assign the checkpoint tensors (one copy in memory).

    Extra tensors (e.g. GMFlow's flow upsampler) are ignored as upstream's partial load does;
    missing ones are an error (upstream would silently keep random weights).
    """
    with torch.device("meta"):
        net = SGMVFI(cfg)
    missing, unexpected = assign_tensors(net, sd.items(), dtype=dtype, device=device)
    if missing:
        raise CheckpointError(
            f"{source} lacks {len(missing)} tensors of the SGM-VFI {cfg.name} network "
            f"(e.g. {', '.join(missing[:4])}): the file is incomplete or of another variant."
        )
    if unexpected:
        log.debug("SGM-VFI: ignored %d tensors not used at inference (e.g. %s)", len(unexpected), unexpected[:3])
    return net.eval().requires_grad_(False)


class SGMVFIInterpolator(Interpolator):
    """Midpoint frames from SGM-VFI. Frames in RGB 0..1 channels-last; the network sees BGR."""

    midpoint_only = True
    multiple = MULTIPLE

    def __init__(self, net: SGMVFI, dtype: torch.dtype = torch.float32, device=None):
        self.net = net
        self.dtype = dtype
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.name = f"sgm_vfi {net.cfg.name}"

    def _to_net(self, x: torch.Tensor) -> torch.Tensor:
        return x.flip(-1).permute(0, 3, 1, 2).to(device=self.device, dtype=self.dtype).contiguous()

    def pair(self, a: torch.Tensor, b: torch.Tensor, t: float = 0.5) -> torch.Tensor:
        """The frame halfway between ``a`` and ``b``.

        Args:
            a, b: float ``[B, H, W, 3]`` RGB in 0..1 (B is 1 from the entry). Sizes that are not
                multiples of 32 are replicate-padded symmetrically here, as upstream's padder does.
            t: must be 0.5 (the checkpoints are trained for the midpoint only).
        Returns:
            float32 ``[B, H, W, 3]`` RGB in 0..1 on ``a``'s device.
        """
        if abs(float(t) - 0.5) > 1e-6:
            raise MotionComicError(f"SGM-VFI only synthesises the midpoint (t=0.5), got t={t}; "
                                   "the interpolate() entry builds other times by recursive midpoints")
        if a.dim() != 4 or a.shape != b.shape or a.shape[-1] != 3:
            raise MotionComicError(f"SGM-VFI needs two frames [B,H,W,3] of one size, got {tuple(a.shape)} and {tuple(b.shape)}")
        h, w = a.shape[1], a.shape[2]
        ph, pw = (-h) % MULTIPLE, (-w) % MULTIPLE
        pad = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
        x0, x1 = self._to_net(a), self._to_net(b)
        if ph or pw:
            x0, x1 = F.pad(x0, pad, mode="replicate"), F.pad(x1, pad, mode="replicate")
        try:
            with torch.inference_mode():
                pred = self.net(x0, x1, 0.5)[0]
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is translated
            if host.is_oom(exc):
                self.release()
                raise MotionComicError(
                    f"out of memory running SGM-VFI on {w}x{h} frames on {self.device}: use float16, a smaller "
                    "frame size, or method 'flow'") from exc
            raise
        pred = pred[:, :, pad[2]: pad[2] + h, pad[0]: pad[0] + w]
        return pred.float().permute(0, 2, 3, 1).flip(-1).to(a.device).contiguous()

    def release(self) -> None:
        self.net.release()
        host.soft_empty_cache()

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.net.parameters())


def expected_params(cfg: SGMConfig) -> int:
    """Parameter count of a configuration (built on the meta device, no memory)."""
    with torch.device("meta"):
        net = SGMVFI(cfg)
    return sum(p.numel() for p in net.parameters())
