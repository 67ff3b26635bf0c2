"""Rectified-flow (RFLOW) sampling for Open-Sora 1.2 STDiT3, as a pure function.

The math follows upstream's ``RFLOW.sample`` exactly:

- timesteps ``t_i = (1 - i/N) * 1000`` for i < N, each transformed by
  ``t' = r t / (1 + (r - 1) t)`` on ``t/1000`` with ``r = sqrt(H W / 512^2) * sqrt(frames // 17 * 5)``
  (1 frame: time factor 1);
- the model predicts the velocity ``v = x0 - noise``; classifier-free guidance against the
  learned null caption (``y_embedder.y_embedding``, projected by ``y_proj`` inside the model, with
  the prompt's token mask reused) ``v = v_u + s (v_c - v_u)``;
- Euler: ``z += v * (t_i - t_{i+1}) / 1000`` (the last step goes to 0);
- image-to-video: conditioning latent frames (``frame_mask`` False) are given the timestep-0
  modulation through ``x_mask`` and reset to their clean value after every step.

Latents stay float32 throughout (upstream keeps them in the model dtype); the model's inputs are
cast to its dtype inside ``forward``. ``height``/``width``/``num_frames``/``fps`` are passed as
model-dtype tensors as upstream does, so the bf16 timestep transform rounds like upstream's.
"""
from __future__ import annotations

import logging
from typing import Callable

import torch

from ..host import Progress

log = logging.getLogger(__name__)

NUM_TIMESTEPS = 1000


def timestep_transform(t: torch.Tensor, height: torch.Tensor, width: torch.Tensor, num_frames: torch.Tensor,
                       num_timesteps: int = NUM_TIMESTEPS, base_resolution: int = 512 * 512,
                       scale: float = 1.0) -> torch.Tensor:
    """Shift timesteps towards noise for larger/longer videos. ``t`` [B] in 0..num_timesteps."""
    t = t / num_timesteps
    ratio_space = (height * width / base_resolution).sqrt()
    if num_frames[0] == 1:
        frames = torch.ones_like(num_frames)
    else:
        frames = num_frames // 17 * 5
    ratio = ratio_space * frames.sqrt() * scale
    return ratio * t / (1 + (ratio - 1) * t) * num_timesteps


def rflow_timesteps(steps: int, batch: int, height: torch.Tensor, width: torch.Tensor, num_frames: torch.Tensor,
                    use_transform: bool = True, device=None) -> list[torch.Tensor]:
    """The ``steps`` sampling timesteps, each a float32 tensor [batch], from 1000 down."""
    ts = [(1.0 - i / steps) * NUM_TIMESTEPS for i in range(steps)]
    out = [torch.tensor([t] * batch, device=device) for t in ts]
    if use_transform:
        out = [timestep_transform(t, height, width, num_frames) for t in out]
    return out


def size_args(batch: int, height: int, width: int, num_frames: int, fps: float, dtype, device=None) -> dict:
    """Upstream's ``prepare_multi_resolution_info`` ("OpenSora"): per-sample model-dtype tensors."""
    def full(v):
        return torch.tensor([float(v)], device=device, dtype=dtype).repeat(batch)

    return dict(height=full(height), width=full(width), num_frames=full(num_frames), fps=full(fps),
                ar=full(height / width))


def null_caption(model, batch: int) -> torch.Tensor:
    """The learned null caption [batch, 1, L, C_caption] (projected by the model's ``y_proj``)."""
    return model.y_embedder.y_embedding[None].repeat(batch, 1, 1)[:, None]


@torch.no_grad()
def sample_rflow(model, z: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None, *, steps: int = 30,
                 cfg_scale: float = 7.0, height: int, width: int, num_frames: int, fps: float = 24.0,
                 frame_mask: torch.Tensor | None = None, use_transform: bool = True,
                 progress: bool | Progress = True, callback: Callable[[int, torch.Tensor], None] | None = None,
                 preview: Callable[[torch.Tensor], object] | None = None) -> torch.Tensor:
    """Denoise ``z`` [B, C, T, h, w] (noise, with conditioning latents already written into the
    frames where ``frame_mask`` [B, T] is False) and return the clean latents (float32).

    ``y`` [B, 1, L, C_caption] caption features, ``mask`` [B, L] its token mask (1 = real token);
    ``height``/``width`` the pixel frame (bucket size), ``num_frames`` the pixel frame count.
    ``progress`` reports each step and honours cancel (ComfyUI interrupt / ``host.request_cancel``);
    ``preview`` (``samplers/preview.Previewer``) turns the clean-latent estimate of each step into
    the image sent with it.
    """
    B = z.shape[0]
    dtype = model.dtype if hasattr(model, "dtype") else torch.float32
    args = size_args(B, height, width, num_frames, fps, dtype, z.device)
    timesteps = rflow_timesteps(steps, B, args["height"], args["width"], args["num_frames"], use_transform, z.device)
    y_all = torch.cat([y, null_caption(model, B).to(y)], 0)
    model_args = dict(y=y_all, mask=mask, fps=args["fps"].repeat(2), height=args["height"].repeat(2),
                      width=args["width"].repeat(2))
    x_mask = None
    if frame_mask is not None:
        x_mask = frame_mask.to(device=z.device, dtype=torch.bool)
        model_args["x_mask"] = x_mask.repeat(2, 1)
        if bool(x_mask.all()):
            x_mask = None
            model_args.pop("x_mask")
    bar = progress if isinstance(progress, Progress) else Progress(steps, "Open-Sora RFLOW", quiet=None if progress else True)
    z = z.float()
    in_ch = z.shape[1]
    for i, t in enumerate(timesteps):
        x0 = z
        pred = model(torch.cat([z, z], 0), torch.cat([t, t], 0), **model_args)[:, :in_ch].float()
        v_cond, v_uncond = pred.chunk(2, dim=0)
        v = v_uncond + cfg_scale * (v_cond - v_uncond)
        dt = (timesteps[i] - timesteps[i + 1]) if i < len(timesteps) - 1 else timesteps[i]
        z = z + v * (dt / NUM_TIMESTEPS)[:, None, None, None, None].float()
        if x_mask is not None:
            z = torch.where(x_mask[:, None, :, None, None], z, x0)
        if callback is not None:
            callback(i, z)
        # rectified flow: z_t = x0 + (t / T) * (noise - x0) and v = x0 - noise, so x0 = z_t + (t / T) v
        clean = None
        if preview is not None:
            est = x0 + v * (t / NUM_TIMESTEPS)[:, None, None, None, None]
            clean = preview(est if x_mask is None else torch.where(x_mask[:, None, :, None, None], est, x0))
        bar.step(preview=clean)
    return z
