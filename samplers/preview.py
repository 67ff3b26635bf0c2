"""Live previews while sampling: the current clean-latent estimate of one frame, mapped to RGB by a
linear map per VAE (ComfyUI's "latent2rgb" previews), sent with each progress step.

ComfyUI decides whether previews are wanted (``--preview-method``: ``none`` is its default; ``auto``,
``latent2rgb`` and ``taesd`` all give these linear previews here, as there is no TAESD for these
VAEs) and how large they may be (``--preview-size``); standalone (CLI, tests) previews are off and
the console shows the step count as before. ``host.preview_settings()`` reads both.

Factors (latent channel -> R, G, B, then a bias), each applied to the latents the sampler holds:

- **CogVideoX** (16 channels, latents already multiplied by the VAE's ``scaling_factor`` 0.7, as the
  diffusers pipeline samples them): the published factors of kijai/ComfyUI-CogVideoXWrapper,
  ``latent_preview.py`` (commit 666f7832), no bias. ComfyUI core's ``comfy/latent_formats.py`` (0.3.64)
  has no CogVideoX format to take them from.
- **Open-Sora VAE v1.2** (4 channels): derived, not fitted (no real weights here). Its spatial half
  is the SDXL VAE (PixArt-sigma's) with latents scaled by 0.18215, its temporal half maps those
  4 channels to 4 and the result is normalised ``(z - shift) / scale``. We undo the normalisation,
  rescale 0.18215 -> SDXL's 0.13025 and apply core's published SDXL factors and bias
  (``comfy/latent_formats.py`` ``SDXL``), treating the temporal latent as the spatial one, which
  is an approximation (colours and layout right, detail soft). ``fit_factors`` computes real
  factors by least squares from any VAE's decode (``benchmarks/fit_latent_rgb.py`` runs it on real
  weights).
"""
from __future__ import annotations

import logging
from typing import Callable

import numpy as np

log = logging.getLogger(__name__)

#: kijai/ComfyUI-CogVideoXWrapper latent_preview.py (commit 666f7832): 16 rows of (R, G, B).
COGVIDEOX_FACTORS = (
    (0.11945946736445662, 0.09919175788574555, -0.004832707433877734),
    (-0.0011977028264356232, 0.05496505130267682, 0.021321622433638193),
    (-0.014088548986590666, -0.008701477861945644, -0.020991313281459367),
    (0.03063921972519621, 0.12186477097625073, 0.0139593690235148),
    (0.0927403067854673, 0.030293187650929136, 0.05083134241694003),
    (0.0379112441305742, 0.04935199882777209, 0.058562766246777774),
    (0.017749911959153715, 0.008839453404921545, 0.036005638019226294),
    (0.10610119248526109, 0.02339855688237826, 0.057154257614084596),
    (0.1273639464837117, -0.010959856130713416, 0.043268631260428896),
    (-0.01873510946881321, 0.08220930648486932, 0.10613256772247093),
    (0.008429116376722327, 0.07623856561000408, 0.09295712117576727),
    (0.12938137079617007, 0.12360403483892413, 0.04478930933220116),
    (0.04565908794779364, 0.041064156741596365, -0.017695041535528512),
    (0.00019003240570281826, -0.013965147883381978, 0.05329669529635849),
    (0.08082391586738358, 0.11548306825496074, -0.021464170006615893),
    (-0.01517932393230994, -0.0057985555313003236, 0.07216646476618871),
)

#: ComfyUI comfy/latent_formats.py ``SDXL`` (latents x 0.13025): 4 rows of (R, G, B) and the bias.
SDXL_FACTORS = ((0.3651, 0.4232, 0.4341), (-0.2533, -0.0042, 0.1068), (0.1076, 0.1111, -0.0362),
                (-0.3165, -0.2492, -0.2188))
SDXL_BIAS = (0.1084, -0.0175, -0.0011)
SDXL_SCALE, OPENSORA_SPATIAL_SCALE = 0.13025, 0.18215


def opensora_factors() -> tuple[np.ndarray, np.ndarray]:
    """(factors [4, 3], bias [3]) for normalised Open-Sora VAE v1.2 latents (see the module doc):
    ``rgb = F_sdxl^T (k (z * scale + shift)) + b_sdxl`` with ``k = 0.13025 / 0.18215``."""
    from ..loaders.opensora.vae import LATENT_SCALE, LATENT_SHIFT

    f, b = np.asarray(SDXL_FACTORS, np.float64), np.asarray(SDXL_BIAS, np.float64)
    k = SDXL_SCALE / OPENSORA_SPATIAL_SCALE
    scale, shift = np.asarray(LATENT_SCALE, np.float64), np.asarray(LATENT_SHIFT, np.float64)
    return (k * scale[:, None] * f).astype(np.float32), (k * shift @ f + b).astype(np.float32)


def latent_to_rgb(latent, factors: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """One latent frame ``[C, h, w]`` (torch or numpy) -> uint8 RGB ``[h, w, 3]``; the linear map gives
    -1..1 as ComfyUI's previews do."""
    x = latent.detach().float().cpu().numpy() if hasattr(latent, "detach") else np.asarray(latent, np.float32)
    rgb = np.tensordot(x, factors, axes=([0], [0]))
    if bias is not None:
        rgb = rgb + bias
    return (np.clip((rgb + 1.0) / 2.0, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def fit_factors(latents: np.ndarray, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares ``(factors [C, 3], bias [3])`` with ``latents [N, C] @ factors + bias ~ rgb [N, 3]``
    (rgb in -1..1: decoded pixels averaged over each latent cell)."""
    a = np.concatenate([np.asarray(latents, np.float64), np.ones((len(latents), 1))], axis=1)
    sol, *_ = np.linalg.lstsq(a, np.asarray(rgb, np.float64), rcond=None)
    return sol[:-1].astype(np.float32), sol[-1].astype(np.float32)


class Previewer:
    """Turns the sampler's clean-latent estimate into ComfyUI's preview value ``("JPEG", image, size)``.

    ``frame_axis`` is where the latent frames are in the 5-D latents (CogVideoX ``[B, F, C, h, w]``:
    1, Open-Sora ``[B, C, T, h, w]``: 2); the middle frame is shown (the first one of an
    image-to-video clip is the input image)."""

    def __init__(self, factors, bias=None, frame_axis: int = 1, max_size: int = 512):
        self.factors = np.asarray(factors, np.float32)
        self.bias = None if bias is None else np.asarray(bias, np.float32)
        self.frame_axis, self.max_size = frame_axis, max_size

    def frame(self, latents):
        """The middle latent frame ``[C, h, w]`` of the first batch item."""
        x = latents[0]
        axis = self.frame_axis - 1
        return x.select(axis, x.shape[axis] // 2) if hasattr(x, "select") else np.take(x, x.shape[axis] // 2, axis)

    def __call__(self, latents):
        from PIL import Image

        channels = latents.shape[2 if self.frame_axis == 1 else 1]
        if channels != len(self.factors):  # e.g. a VAE of another size: no factors for it
            if not getattr(self, "_said", False):
                log.info("no preview: the latents have %d channels, the preview factors %d", channels,
                         len(self.factors))
                self._said = True
            return None
        try:
            rgb = latent_to_rgb(self.frame(latents), self.factors, self.bias)
        except Exception:  # a preview must never stop sampling
            log.debug("preview failed", exc_info=True)
            return None
        return ("JPEG", Image.fromarray(rgb), self.max_size)


def previewer_for(family: str) -> Callable | None:
    """The previewer for a model family, or None when previews are off (standalone, or ComfyUI's
    ``--preview-method none``) or the family has no factors."""
    from .. import host

    method, size = host.preview_settings()
    if method == "none":
        return None
    if family == "cogvideox":
        return Previewer(COGVIDEOX_FACTORS, None, frame_axis=1, max_size=size)
    if family == "opensora":
        f, b = opensora_factors()
        return Previewer(f, b, frame_axis=2, max_size=size)
    return None
