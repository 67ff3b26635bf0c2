"""Wan 2.2 image-to-video engine on diffusers components: encode -> prepare -> denoise -> decode.

The math follows diffusers' ``WanImageToVideoPipeline`` step for step (the one random draw, the
initial noise, from one CPU generator; the image latent is the VAE's mode; conditional and
unconditional passes run separately as there), so with an image already at a legal frame the
frames are identical to the pipeline's. Two ways the image enters:

- TI2V-5B ("expand timesteps"): the first latent frame is replaced by the image latent before
  every step and its tokens get timestep 0.
- I2V-A14B: 4 mask channels + the latent of (image, black frames) are concatenated to the noise;
  the high-noise expert runs while ``t >= boundary_ratio * 1000``, the low-noise one after, each
  with its own guidance (``cfg``, ``cfg_2``).

On top: progress and cancel per step, the umT5 budget reported, model offload (one expert on the
device at a time), and VAE tiling for frames above the model's area or as the retry after
running out of memory.
"""
from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable

from .. import host
from ..errors import MotionComicError
from .cogvideox import _token_report
from .options import build_options
from .vae_tiling import decode_tiled_on_oom

log = logging.getLogger(__name__)

SCHEDULERS = ("UniPC", "Euler")


@dataclass
class WanOptions:
    """Sampling settings; None = the model's default (see ``loaders/wan_config.DEFAULTS``)."""

    steps: int = 50
    cfg: float = 5.0
    cfg_2: float | None = None  # A14B low-noise expert's guidance; None = cfg (as diffusers)
    flow_shift: float | None = None
    boundary_ratio: float | None = None
    scheduler: str = "UniPC"
    vae_tiling: str = "auto"  # auto / on / off
    callback: Callable[[int, int], None] | None = None  # called after each step (step, total)

    @classmethod
    def for_model(cls, model, steps=None, cfg=None, options: dict | None = None) -> "WanOptions":
        d = model.components["defaults"]
        opts = build_options(cls, "Wan", steps if steps else d["steps"], cfg if cfg is not None else d["cfg"],
                             {k: v for k, v in (options or {}).items() if k != "scheduler" or v in SCHEDULERS})
        if opts.cfg_2 is None and d.get("boundary_ratio") is not None:
            opts.cfg_2 = opts.cfg if cfg is not None else (d["cfg_2"] if d["cfg_2"] is not None else opts.cfg)
        if opts.boundary_ratio is None:
            opts.boundary_ratio = d.get("boundary_ratio")
        if opts.boundary_ratio is not None and not 0.0 <= opts.boundary_ratio <= 1.0:
            raise MotionComicError(f"boundary_ratio {opts.boundary_ratio} must be between 0 and 1 (Wan 2.2 I2V: 0.9)")
        if opts.vae_tiling not in ("auto", "on", "off"):
            raise MotionComicError(f"vae_tiling {opts.vae_tiling!r} is unknown; use auto, on or off")
        return opts


def make_scheduler(model, opts: WanOptions):
    from diffusers import FlowMatchEulerDiscreteScheduler, UniPCMultistepScheduler

    cfg = dict(model.components["scheduler_config"])
    if opts.flow_shift is not None:
        cfg["flow_shift"] = float(opts.flow_shift)
    if opts.scheduler == "Euler":
        return FlowMatchEulerDiscreteScheduler(shift=cfg.get("flow_shift", 5.0),
                                               num_train_timesteps=cfg.get("num_train_timesteps", 1000))
    return UniPCMultistepScheduler.from_config(cfg)


def check_image(model, size: tuple[int, int]) -> None:
    """Refuse an image smaller than the smallest legal frame (one multiple on each side)."""
    m = model.frame.multiple
    if size[0] < m or size[1] < m:
        raise MotionComicError(
            f"image is {size[1]}x{size[0]} pixels, smaller than the smallest frame {m}x{m} of {model.name or model.variant} "
            f"(frame sides are multiples of {m}); it would be blown up from almost nothing. Use a character image "
            f"of at least {m} px on each side (Wan generates at about {_area_text(model)}).")


def _area_text(model) -> str:
    spec = model.frame
    return ", ".join(f"{k} ({v:,} px)" for k, v in spec.areas.items())


# --------------------------------------------------------------------------- encode
def clean_prompt(text: str) -> str:
    """diffusers' Wan prompt cleaning: ftfy (when installed), HTML unescape, one space."""
    try:
        import ftfy

        text = ftfy.fix_text(text)
    except ImportError:  # ftfy only repairs mojibake; the prompt is used as typed
        pass
    text = html.unescape(html.unescape(text)).strip()
    return re.sub(r"\s+", " ", text).strip()


def encode_text(model, prompt: str, negative: str, do_cfg: bool, report: list[str]):
    """umT5 embeddings (prompt, negative or None), each [1, 512, dim], zero past the text."""
    import torch

    tok, limit = model.components["tokenizer"], model.text_tokens
    report += _token_report(tok, prompt, limit, "prompt")
    texts = [prompt] + ([negative or ""] if do_cfg else [])
    if do_cfg and negative:
        report += _token_report(tok, negative, limit, "negative prompt")
    out = []
    with model.on_device("text_encoder") as enc, torch.no_grad():
        for text in texts:
            t = tok([clean_prompt(text)], padding="max_length", max_length=limit, truncation=True,
                    add_special_tokens=True, return_attention_mask=True, return_tensors="pt")
            ids, mask = t.input_ids, t.attention_mask
            n = int(mask.gt(0).sum())
            emb = enc(ids.to(model.device), mask.to(model.device)).last_hidden_state
            emb = emb.to(dtype=model.dtype, device=model.device)[0, :n]
            emb = torch.cat([emb, emb.new_zeros(limit - n, emb.size(1))])[None]
            out.append(emb.to(_transformer_dtype(model)))
    return out[0], (out[1] if do_cfg else None)


def _transformer_dtype(model):
    return model.dtype  # every component is loaded in the compute dtype


def _latent_stats(vae, like):
    import torch

    z = vae.config.z_dim
    mean = torch.tensor(vae.config.latents_mean).view(1, z, 1, 1, 1).to(like.device, like.dtype)
    inv_std = 1.0 / torch.tensor(vae.config.latents_std).view(1, z, 1, 1, 1).to(like.device, like.dtype)
    return mean, inv_std


# --------------------------------------------------------------------------- prepare
def prepare_latents(model, image, num_frames: int, generator):
    """image [1,H,W,3] in 0..1 at the frame size -> (noise [1,C,F,h,w] float32, condition, mask).

    TI2V-5B: condition = the image latent [1,C,1,h,w], mask [1,1,F,h,w] (0 on the first frame).
    A14B: condition = mask (4 channels) + latent of (image, black frames) [1,4+C,F,h,w]; mask None.
    """
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    vae, expand = model.components["vae"], model.components["defaults"]["expand_timesteps"]
    t_scale, s_scale = vae.config.scale_factor_temporal, vae.config.scale_factor_spatial
    _, height, width, _ = image.shape
    frames = (num_frames - 1) // t_scale + 1
    lh, lw = height // s_scale, width // s_scale
    latents = randn_tensor((1, vae.config.z_dim, frames, lh, lw), generator=generator, device=model.device,
                           dtype=torch.float32)
    pixels = (image.movedim(-1, 1).to(model.device, torch.float32) * 2.0 - 1.0).unsqueeze(2)  # [1,3,1,H,W]
    if not expand:
        pixels = torch.cat([pixels, pixels.new_zeros(1, 3, num_frames - 1, height, width)], dim=2)
    mean, inv_std = _latent_stats(vae, latents)
    with model.on_device("vae") as v, torch.no_grad():
        cond = v.encode(pixels.to(dtype=model.dtype)).latent_dist.mode()
    cond = (cond.to(device=model.device, dtype=torch.float32) - mean) * inv_std
    if expand:
        mask = torch.ones(1, 1, frames, lh, lw, dtype=torch.float32, device=model.device)
        mask[:, :, 0] = 0
        return latents, cond, mask
    m = torch.ones(1, 1, num_frames, lh, lw)
    m[:, :, 1:] = 0
    first = torch.repeat_interleave(m[:, :, 0:1], dim=2, repeats=t_scale)
    m = torch.cat([first, m[:, :, 1:]], dim=2).view(1, -1, t_scale, lh, lw).transpose(1, 2).to(cond.device)
    return latents, torch.cat([m, cond], dim=1), None


# --------------------------------------------------------------------------- denoise
def _phases(model, timesteps, opts: WanOptions):
    """[(component name, guidance, [(index, t), ...])]: the high-noise expert while t >= boundary."""
    items = list(enumerate(timesteps))
    if model.components.get("transformer_2") is None or opts.boundary_ratio is None:
        return [("transformer", opts.cfg, items)]
    boundary = opts.boundary_ratio * model.components["scheduler_config"].get("num_train_timesteps", 1000)
    high = [(i, t) for i, t in items if t >= boundary]
    low = [(i, t) for i, t in items if not t >= boundary]
    return [p for p in (("transformer", opts.cfg, high), ("transformer_2", opts.cfg_2, low)) if p[2]]


def denoise(model, latents, condition, mask, embeds, negative, opts: WanOptions, report: list[str]):
    """The sampling loop; returns the final latents [1,C,F,h,w]. Reports progress, honours cancel."""
    import torch

    sched = make_scheduler(model, opts)
    sched.set_timesteps(opts.steps, device=model.device)
    timesteps = sched.timesteps
    tdtype = _transformer_dtype(model)
    patch = model.components["transformer"].config.patch_size
    progress = host.Progress(len(timesteps), "Wan")
    for name, guidance, steps in _phases(model, timesteps, opts):
        if name == "transformer_2":
            report.append(f"expert switch to low noise at step {steps[0][0] + 1}/{len(timesteps)}, cfg {guidance}")
        with model.on_device(name) as tr, torch.no_grad():
            for i, t in steps:
                if mask is not None:
                    x = ((1 - mask) * condition + mask * latents).to(tdtype)
                    timestep = (mask[0][0][:, :: patch[1], :: patch[2]] * t).flatten().unsqueeze(0).expand(1, -1)
                else:
                    x = torch.cat([latents, condition], dim=1).to(tdtype)
                    timestep = t.expand(1)
                pred = tr(hidden_states=x, timestep=timestep, encoder_hidden_states=embeds, return_dict=False)[0]
                if negative is not None:
                    uncond = tr(hidden_states=x, timestep=timestep, encoder_hidden_states=negative, return_dict=False)[0]
                    pred = uncond + guidance * (pred - uncond)
                latents = sched.step(pred, t, latents, return_dict=False)[0]
                if opts.callback is not None:
                    opts.callback(i + 1, len(timesteps))
                progress.step()
    if mask is not None:
        latents = (1 - mask) * condition + mask * latents
    return latents


# --------------------------------------------------------------------------- decode
def decode(model, latents, tiling: str, report: list[str]):
    """Latents [1,C,F,h,w] -> frames [N,H,W,3] float32 in 0..1, tiling the VAE when asked, for
    frames above the model's default area, or after an out-of-memory error."""
    import torch

    vae = model.components["vae"]
    s = vae.config.scale_factor_spatial
    area = latents.shape[-1] * latents.shape[-2] * s * s
    tile = tiling == "on" or (tiling == "auto" and area > model.frame.areas[model.frame.default_resolution])
    host.check_cancel()
    with model.on_device("vae") as v, torch.no_grad():
        z = latents.to(device=model.device, dtype=model.dtype)
        mean, inv_std = _latent_stats(v, z)
        z = z / inv_std + mean
        video = decode_tiled_on_oom(v, lambda: v.decode(z, return_dict=False)[0], tile, tiling, report)
    frames = (video[0].permute(1, 0, 2, 3) * 0.5 + 0.5).clamp(0, 1)  # [N,3,H,W]
    return frames.permute(0, 2, 3, 1).float().to("cpu").contiguous()


# --------------------------------------------------------------------------- entry
def check_options(model, steps=None, cfg=None, options: dict | None = None) -> None:
    """The settings (boundary ratio, VAE tiling, ...), checked before the weights are read (a
    deferred Wan model carries its defaults)."""
    WanOptions.for_model(model, steps, cfg, options)


def sample(model, image, prompt: str, negative_prompt: str = "", *, num_frames: int, steps=None, cfg=None,
           seed: int = 0, options: dict | None = None, report: list[str] | None = None) -> Any:
    """Generate ``num_frames`` frames from ``image`` ([1,H,W,3] float 0..1 at a legal frame).

    Returns frames [num_frames, H, W, 3] float32 0..1; appends what it did to ``report``.
    """
    import torch

    report = report if report is not None else []
    opts = WanOptions.for_model(model, steps, cfg, options)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    embeds, negative = encode_text(model, prompt, negative_prompt, opts.cfg > 1.0, report)
    latents, condition, mask = prepare_latents(model, image, num_frames, generator)
    latents = denoise(model, latents, condition, mask, embeds, negative, opts, report)
    frames = decode(model, latents, opts.vae_tiling, report)
    sched = make_scheduler(model, opts)
    g = f"cfg {opts.cfg}" + (f"/{opts.cfg_2} (boundary {opts.boundary_ratio})"
                             if model.components.get("transformer_2") is not None else "")
    report.append(f"Wan {model.variant}: {frames.shape[0]} frames {image.shape[2]}x{image.shape[1]}, {opts.steps} steps, "
                  f"{g}, {type(sched).__name__} shift {sched.config.get('flow_shift', sched.config.get('shift'))}, "
                  f"seed {seed}")
    return frames
