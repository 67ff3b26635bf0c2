"""Stable Video Diffusion image-to-video engine on diffusers components, and the SVD steps that
MimicMotion shares (CLIP image embedding, noise-augmented VAE latent, added time ids, Euler
scheduler, chunked decode).

The math follows diffusers' ``StableVideoDiffusionPipeline`` step for step, with the same random
draws in the same order from one CPU generator (augmentation noise, then the initial latents), so
with an image already at the model frame the frames are identical to the pipeline's. On top:
our framing, progress and cancel per step and per decode chunk, model offload, and decoded frames
written into one preallocated CPU tensor (GPU memory does not grow with the clip).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from .. import host
from ..errors import MotionComicError
from .options import build_options

log = logging.getLogger(__name__)


@dataclass
class SVDOptions:
    """SVD-xt 1.1 defaults (diffusers' pipeline): 25 steps, guidance rising per frame from
    ``min_cfg`` to ``cfg`` (1 -> 3), fps 7 (the UNet sees fps - 1 = 6, the value 1.1 was trained
    at), motion bucket 127, augmentation noise 0.02, 8 frames per VAE decode."""

    steps: int = 25
    cfg: float = 3.0
    min_cfg: float = 1.0
    fps: int = 7
    motion_bucket_id: int = 127
    noise_aug_strength: float = 0.02
    decode_chunk: int = 8
    callback: Callable[[int, int], None] | None = None  # called after each step (step, total)

    @classmethod
    def from_options(cls, steps=None, cfg=None, options: dict | None = None) -> "SVDOptions":
        opts = build_options(cls, "SVD", steps, cfg, options)
        check_conditioning(opts.fps, opts.motion_bucket_id, opts.noise_aug_strength, opts.decode_chunk)
        return opts


def check_conditioning(fps: int, motion_bucket_id: int, noise_aug: float, decode_chunk: int) -> None:
    if not 1 <= int(fps) <= 60:
        raise MotionComicError(f"fps conditioning {fps} is out of range; use 1..60 (SVD-xt 1.1 was trained at 7)")
    if not 0 <= int(motion_bucket_id) <= 1023:
        raise MotionComicError(f"motion bucket {motion_bucket_id} is out of range; use 0..1023 (default 127)")
    if not 0.0 <= float(noise_aug) <= 1.0:
        raise MotionComicError(f"noise augmentation {noise_aug} is out of range; use 0..1 (default 0.02)")
    if int(decode_chunk) < 1:
        raise MotionComicError(f"decode chunk {decode_chunk} must be at least 1 frame (default 8)")


def make_scheduler(model):
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler.from_config(model.components["scheduler_config"])


# --------------------------------------------------------------------------- encode
def image_embeddings(model, image):
    """CLIP image embedding ``[1,1,D]`` of ``image`` ([1,H,W,3] float 0..1), preprocessed exactly
    as the pipelines do for a PIL image: anti-aliased resize to 224 in -1..1, then CLIP's mean/std."""
    import torch
    from diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion import _resize_with_antialiasing

    x = image.movedim(-1, 1).float() * 2.0 - 1.0
    x = (_resize_with_antialiasing(x, (224, 224)) + 1.0) / 2.0
    pixels = model.components["feature_extractor"](images=x, do_normalize=True, do_center_crop=False,
                                                     do_resize=False, do_rescale=False, return_tensors="pt").pixel_values
    with model.on_device("image_encoder") as enc, torch.no_grad():
        emb = enc(pixels.to(model.device, next(enc.parameters()).dtype)).image_embeds
    return emb.unsqueeze(1)


def image_latent(model, image, noise_aug: float, generator, upcast: bool = True):
    """VAE latent ``[1,4,h,w]`` (mode) of ``image`` in -1..1 plus ``noise_aug`` x N(0,1) noise
    (drawn first from ``generator``). With ``upcast`` fp16 VAEs with ``force_upcast`` encode in fp32
    (diffusers' SVD pipeline; MimicMotion's pipeline does not)."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    pixels = image.movedim(-1, 1).float() * 2.0 - 1.0
    noise = randn_tensor(pixels.shape, generator=generator, dtype=pixels.dtype)
    pixels = pixels + noise_aug * noise
    with model.on_device("vae") as vae, torch.no_grad():
        upcast = upcast and vae.dtype == torch.float16 and vae.config.force_upcast
        if upcast:
            vae.to(torch.float32)
        try:
            z = vae.encode(pixels.to(model.device, vae.dtype)).latent_dist.mode()
        finally:
            if upcast:
                vae.to(torch.float16)
    return z


def added_time_ids(model, fps: int, motion_bucket_id: int, noise_aug: float, dtype, unet=None):
    """``[1,3]`` micro-conditioning: (fps - 1, motion bucket, augmentation strength)."""
    import torch

    unet = unet if unet is not None else model.components["unet"]
    expected = unet.add_embedding.linear_1.in_features
    if unet.config.addition_time_embed_dim * 3 != expected:
        raise MotionComicError(
            f"this UNet expects {expected} added-time features, not 3 x {unet.config.addition_time_embed_dim}: "
            "it is not an SVD image-to-video UNet"
        )
    return torch.tensor([[fps - 1, motion_bucket_id, noise_aug]], dtype=dtype)


def initial_noise(shape, generator, dtype, scheduler):
    from diffusers.utils.torch_utils import randn_tensor

    return randn_tensor(shape, generator=generator, dtype=dtype) * scheduler.init_noise_sigma


def frame_guidance(min_cfg: float, max_cfg: float, frames: int, dtype, device):
    """``[1,F,1,1,1]``: guidance rising linearly from the first frame to the last."""
    import torch

    return torch.linspace(min_cfg, max_cfg, frames).to(device, dtype)[None, :, None, None, None]


# --------------------------------------------------------------------------- decode
def decode_chunks(model, latents, chunk: int, desc: str = "decode"):
    """Yield ``(first_index, frames [c,H,W,3] float32 0..1 on the CPU)`` for latents
    ``[1,F,4,h,w]``, ``chunk`` frames per VAE call (the temporal decoder sees each chunk as one
    clip, as in the pipelines). Progress per chunk; cancel between chunks."""
    import torch

    vae = model.components["vae"]
    z = 1 / vae.config.scaling_factor * latents.flatten(0, 1)  # the pipelines multiply by the reciprocal
    progress = host.Progress(-(-z.shape[0] // chunk), desc)
    with model.on_device("vae") as v, torch.no_grad():
        for i in range(0, z.shape[0], chunk):
            part = z[i : i + chunk]
            frames = v.decode(part.to(model.device, v.dtype), num_frames=part.shape[0]).sample
            yield i, (frames.float() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu()
            del frames
            progress.step()


def decode(model, latents, chunk: int, report: list[str] | None = None):
    """Latents ``[1,F,4,h,w]`` -> frames ``[F,H,W,3]`` float32 0..1 in one preallocated CPU tensor."""
    import torch

    s = 2 ** (len(model.components["vae"].config.block_out_channels) - 1)
    n = latents.shape[1]
    out = torch.empty((n, latents.shape[-2] * s, latents.shape[-1] * s, 3), dtype=torch.float32)
    for i, frames in decode_chunks(model, latents, chunk):
        out[i : i + frames.shape[0]] = frames
    if report is not None:
        report.append(f"VAE decode: {n} frames, {chunk} per chunk")
    return out


# --------------------------------------------------------------------------- entry
def check_image(model, size: tuple[int, int]) -> None:  # any size: framing pads to the model frame
    return None


def check_options(model, steps=None, cfg=None, options: dict | None = None) -> None:
    """The settings (motion bucket, fps, augmentation...), checked before the weights are read."""
    SVDOptions.from_options(steps, cfg, options)


def sample(model, image, prompt: str = "", negative_prompt: str = "", *, num_frames: int, steps=None, cfg=None,
           seed: int = 0, options: dict | None = None, report: list[str] | None = None) -> Any:
    """``num_frames`` frames from ``image`` ([1,H,W,3] float 0..1 at the model frame). SVD is
    conditioned on the image alone; ``prompt`` is not used. Returns [F,H,W,3] float32 0..1."""
    import torch

    report = report if report is not None else []
    opts = SVDOptions.from_options(steps, cfg, options)
    if prompt and prompt.strip():
        report.append("SVD is conditioned on the image only: the prompt is not used")
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    unet = model.components["unet"]
    cfg_on = opts.cfg > 1.0
    emb = image_embeddings(model, image)
    img_lat = image_latent(model, image, opts.noise_aug_strength, generator).to(emb.dtype)
    ids = added_time_ids(model, opts.fps, opts.motion_bucket_id, opts.noise_aug_strength, emb.dtype)
    if cfg_on:
        emb, img_lat, ids = torch.cat([torch.zeros_like(emb), emb]), torch.cat([torch.zeros_like(img_lat), img_lat]), ids.repeat(2, 1)
    img_lat = img_lat.unsqueeze(1).repeat(1, num_frames, 1, 1, 1)
    scheduler = make_scheduler(model)
    scheduler.set_timesteps(opts.steps, device=model.device)
    h, w = img_lat.shape[-2:]
    latents = initial_noise((1, num_frames, unet.config.in_channels // 2, h, w), generator, emb.dtype, scheduler)
    latents = latents.to(model.device)
    guidance = frame_guidance(opts.min_cfg, opts.cfg, num_frames, latents.dtype, model.device)
    progress = host.Progress(len(scheduler.timesteps), "SVD")
    with model.on_device("unet") as net, torch.no_grad():
        emb, img_lat, ids = emb.to(model.device), img_lat.to(model.device), ids.to(model.device)
        for i, t in enumerate(scheduler.timesteps):
            inp = torch.cat([latents] * 2) if cfg_on else latents
            inp = torch.cat([scheduler.scale_model_input(inp, t), img_lat], dim=2)
            pred = net(inp, t, encoder_hidden_states=emb, added_time_ids=ids, return_dict=False)[0]
            if cfg_on:
                uncond, cond = pred.chunk(2)
                pred = uncond + guidance * (cond - uncond)
            latents = scheduler.step(pred, t, latents).prev_sample
            if opts.callback is not None:
                opts.callback(i + 1, len(scheduler.timesteps))
            progress.step()
    frames = decode(model, latents, opts.decode_chunk, report)
    report.append(f"SVD: {num_frames} frames {image.shape[2]}x{image.shape[1]}, {opts.steps} steps, guidance "
                  f"{opts.min_cfg}->{opts.cfg}, fps cond {opts.fps}, motion {opts.motion_bucket_id}, "
                  f"noise aug {opts.noise_aug_strength}, seed {seed}")
    return frames
