"""CogVideoX engine on diffusers components: encode -> prepare -> denoise -> decode.

Image to video (``sample``) follows diffusers' ``CogVideoXImageToVideoPipeline`` step for step
(same random draws in the same order from one CPU generator: image-latent sample, initial noise,
then scheduler noise), so with an image already at the native frame the frames are identical to
the pipeline's; text to video (``sample_text``) likewise follows ``CogVideoXPipeline``. LoRAs on
the model (``VideoModel.loras``) are applied around the transformer for the run only. On top:
progress and cancel per step, the text-token budget reported, model offload, and VAE tiling for
large frames or as the retry after running out of memory.
"""
from __future__ import annotations

import contextlib
import inspect
import logging
import math
from dataclasses import dataclass
from typing import Any, Callable

from .. import host
from ..errors import MotionComicError
from .options import build_options
from .preview import previewer_for
from .vae_tiling import decode_tiled_on_oom

log = logging.getLogger(__name__)

SCHEDULERS = ("auto", "DDIM", "DPM")
#: Frames larger than this many pixels decode with VAE tiling automatically (480x720 = native).
TILING_AREA = 480 * 720


@dataclass
class CogOptions:
    """Sampling settings (None = the model's default)."""

    steps: int = 50
    cfg: float = 6.0
    dynamic_cfg: bool = False
    scheduler: str = "auto"
    eta: float = 0.0
    vae_tiling: str = "auto"  # auto / on / off
    callback: Callable[[int, int], None] | None = None  # called after each step (step, total)

    @classmethod
    def from_options(cls, steps=None, cfg=None, options: dict | None = None) -> "CogOptions":
        opts = build_options(cls, "CogVideoX", steps, cfg, options)
        if opts.scheduler not in SCHEDULERS:
            raise MotionComicError(f"scheduler {opts.scheduler!r} is unknown; use one of {', '.join(SCHEDULERS)}")
        return opts


def make_scheduler(model, name: str = "auto"):
    from diffusers import CogVideoXDDIMScheduler, CogVideoXDPMScheduler

    cfg = dict(model.components["scheduler_config"])
    if name == "auto":
        name = "DPM" if "DPM" in cfg.get("_class_name", "") else "DDIM"
    cls = CogVideoXDPMScheduler if name == "DPM" else CogVideoXDDIMScheduler
    return cls.from_config(cfg)


# --------------------------------------------------------------------------- encode
def _token_report(tokenizer, prompt: str, limit: int, what: str) -> list[str]:
    from ..prompts.budget import count_tokens

    n = count_tokens(prompt, tokenizer)
    if n <= limit:
        return [f"{what}: {n}/{limit} T5 tokens"]
    ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    lost = tokenizer.decode(ids[limit - 1 : -1], skip_special_tokens=True)
    log.warning("%s truncated to %d tokens; dropped: %s", what, limit, lost)
    return [f"{what} TRUNCATED: {n} T5 tokens, the model reads {limit}; dropped: \"{lost}\". "
            "Shorten it or use the Expand Prompt node's budget."]


def encode_text(model, prompt: str, negative: str, do_cfg: bool, report: list[str]):
    """T5 embeddings [1 or 2, tokens, dim] (negative first when guiding), padded to the budget."""
    import torch

    tok, limit = model.components["tokenizer"], model.text_tokens
    report += _token_report(tok, prompt, limit, "prompt")
    texts = [negative or "", prompt] if do_cfg else [prompt]
    if do_cfg and negative:
        report += _token_report(tok, negative, limit, "negative prompt")
    with model.on_device("text_encoder") as enc, torch.no_grad():
        embeds = []
        for text in texts:
            ids = tok([text], padding="max_length", max_length=limit, truncation=True,
                      add_special_tokens=True, return_tensors="pt").input_ids
            embeds.append(enc(ids.to(model.device))[0].to(dtype=model.dtype, device=model.device))
    return torch.cat(embeds, dim=0)


# --------------------------------------------------------------------------- prepare
def prepare_latents(model, image, num_frames: int, generator):
    """image [1,H,W,3] in 0..1 at the frame size -> (noise latents, image latents, extra frames),
    both [1, F, C, h, w] (F padded to ``patch_size_t`` for 1.5)."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    tcfg, vae = model.components["transformer"].config, model.components["vae"]
    vcfg = vae.config
    s_scale, t_scale = 2 ** (len(vcfg.block_out_channels) - 1), vcfg.temporal_compression_ratio
    _, height, width, _ = image.shape
    latent_frames = (num_frames - 1) // t_scale + 1
    extra = 0
    if tcfg.patch_size_t is not None and latent_frames % tcfg.patch_size_t:
        extra = tcfg.patch_size_t - latent_frames % tcfg.patch_size_t
        num_frames += extra * t_scale
    frames = (num_frames - 1) // t_scale + 1
    channels = tcfg.in_channels // 2
    shape = (1, frames, channels, height // s_scale, width // s_scale)
    if tcfg.patch_size_t is not None:
        shape = shape[:1] + (shape[1] + shape[1] % tcfg.patch_size_t,) + shape[2:]
    pixels = image.movedim(-1, 1).to(model.device, dtype=model.dtype) * 2.0 - 1.0  # [1,3,H,W] in -1..1
    with model.on_device("vae") as v, torch.no_grad():
        dist = v.encode(pixels.unsqueeze(2)).latent_dist
        img_lat = dist.sample(generator)
    img_lat = img_lat.to(model.dtype).permute(0, 2, 1, 3, 4)
    factor = vcfg.scaling_factor
    img_lat = (1 / factor * img_lat) if vcfg.invert_scale_latents else (factor * img_lat)
    pad = torch.zeros((1, frames - 1, channels) + shape[3:], device=model.device, dtype=model.dtype)
    img_lat = torch.cat([img_lat, pad], dim=1)
    if tcfg.patch_size_t is not None:
        img_lat = torch.cat([img_lat[:, : img_lat.size(1) % tcfg.patch_size_t], img_lat], dim=1)
    latents = randn_tensor(shape, generator=generator, device=model.device, dtype=model.dtype)
    return latents, img_lat, extra


def rotary_embeddings(model, height: int, width: int, latent_frames: int):
    from diffusers.models.embeddings import get_3d_rotary_pos_embed
    from diffusers.pipelines.cogvideo.pipeline_cogvideox import get_resize_crop_region_for_grid

    cfg = model.components["transformer"].config
    if not cfg.use_rotary_positional_embeddings:
        return None
    s_scale = 2 ** (len(model.components["vae"].config.block_out_channels) - 1)
    p, pt = cfg.patch_size, cfg.patch_size_t
    gh, gw = height // (s_scale * p), width // (s_scale * p)
    bw, bh = cfg.sample_width // p, cfg.sample_height // p
    if pt is None:
        crops = get_resize_crop_region_for_grid((gh, gw), bw, bh)
        return get_3d_rotary_pos_embed(embed_dim=cfg.attention_head_dim, crops_coords=crops,
                                       grid_size=(gh, gw), temporal_size=latent_frames, device=model.device)
    return get_3d_rotary_pos_embed(embed_dim=cfg.attention_head_dim, crops_coords=None, grid_size=(gh, gw),
                                   temporal_size=(latent_frames + pt - 1) // pt, grid_type="slice",
                                   max_size=(bh, bw), device=model.device)


# --------------------------------------------------------------------------- denoise
def denoise(model, latents, image_latents, embeds, opts: CogOptions, generator, size: tuple[int, int]):
    """The sampling loop; returns the final latents [1,F,C,h,w]. ``image_latents`` None = text to
    video (nothing concatenated). Reports progress, honours cancel."""
    import torch
    from diffusers import CogVideoXDPMScheduler

    from ..loaders.lora import lora_applied

    sched = make_scheduler(model, opts.scheduler)
    sched.set_timesteps(opts.steps, device=model.device)
    timesteps = sched.timesteps
    do_cfg = opts.cfg > 1.0
    latents = latents * sched.init_noise_sigma
    step_params = set(inspect.signature(sched.step).parameters)
    extra = {k: v for k, v in (("eta", opts.eta), ("generator", generator)) if k in step_params}
    rope = rotary_embeddings(model, size[0], size[1], latents.size(1))
    tcfg = model.components["transformer"].config
    ofs = None if tcfg.ofs_embed_dim is None else latents.new_full((1,), fill_value=2.0)
    image_in = None if image_latents is None else torch.cat([image_latents] * 2) if do_cfg else image_latents
    progress = host.Progress(len(timesteps), "CogVideoX")
    preview = previewer_for("cogvideox")  # None unless ComfyUI asks for previews
    guidance, old_pred = opts.cfg, None
    with model.on_device("transformer") as tr, lora_applied(model, tr), torch.no_grad():
        for i, t in enumerate(timesteps):
            x = torch.cat([latents] * 2) if do_cfg else latents
            x = sched.scale_model_input(x, t)
            if image_in is not None:
                x = torch.cat([x, image_in], dim=2)
            noise = tr(hidden_states=x, encoder_hidden_states=embeds, timestep=t.expand(x.shape[0]),
                       ofs=ofs, image_rotary_emb=rope, return_dict=False)[0].float()
            if opts.dynamic_cfg:  # diffusers' formula, timestep value included, kept identical
                guidance = 1 + opts.cfg * (
                    (1 - math.cos(math.pi * ((opts.steps - t.item()) / opts.steps) ** 5.0)) / 2)
            if do_cfg:
                uncond, cond = noise.chunk(2)
                noise = uncond + guidance * (cond - uncond)
            if isinstance(sched, CogVideoXDPMScheduler):
                latents, old_pred = sched.step(noise, old_pred, t, timesteps[i - 1] if i > 0 else None,
                                               latents, **extra, return_dict=False)
                clean = old_pred
            else:  # DDIM: (previous sample, predicted clean sample)
                latents, clean = sched.step(noise, t, latents, **extra, return_dict=False)[:2]
            latents = latents.to(embeds.dtype)
            if opts.callback is not None:
                opts.callback(i + 1, len(timesteps))
            progress.step(preview=preview(clean) if preview is not None else None)
    return latents


# --------------------------------------------------------------------------- decode
def decode(model, latents, tiling: str, report: list[str]):
    """Latents [1,F,C,h,w] -> frames [N,H,W,3] float32 in 0..1, tiling the VAE when asked, for
    frames larger than 480x720, or after an out-of-memory error."""
    import torch

    vae = model.components["vae"]
    s_scale = 2 ** (len(vae.config.block_out_channels) - 1)
    area = latents.shape[-1] * latents.shape[-2] * s_scale * s_scale
    tile = tiling == "on" or (tiling == "auto" and area > TILING_AREA)
    z = latents.permute(0, 2, 1, 3, 4)
    z = 1 / vae.config.scaling_factor * z
    host.check_cancel()
    with model.on_device("vae") as v, torch.no_grad():
        video = decode_tiled_on_oom(v, lambda: v.decode(z).sample, tile, tiling, report)
    frames = (video[0].permute(1, 0, 2, 3) * 0.5 + 0.5).clamp(0, 1)  # [N,3,H,W]
    return frames.permute(0, 2, 3, 1).float().contiguous()


def check_options(model, steps=None, cfg=None, options: dict | None = None) -> None:
    """The settings (scheduler, ...), checked before a deferred model reads its weights."""
    CogOptions.from_options(steps, cfg, options)


# --------------------------------------------------------------------------- entry
def sample(model, image, prompt: str, negative_prompt: str = "", *, num_frames: int, steps=None, cfg=None,
           seed: int = 0, options: dict | None = None, report: list[str] | None = None) -> Any:
    """Generate ``num_frames`` frames from ``image`` ([1,H,W,3] float 0..1 at the model frame).

    Returns frames [num_frames, H, W, 3] float32 0..1; appends what it did to ``report``.
    """
    import torch

    report = report if report is not None else []
    opts = CogOptions.from_options(steps, cfg, options)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    embeds = encode_text(model, prompt, negative_prompt, opts.cfg > 1.0, report)
    latents, image_latents, extra = prepare_latents(model, image, num_frames, generator)
    size = tuple(image.shape[1:3])
    latents = denoise(model, latents, image_latents, embeds, opts, generator, size)
    latents = latents[:, extra:]
    frames = decode(model, latents, opts.vae_tiling, report)
    sched = make_scheduler(model, opts.scheduler).__class__.__name__
    report.append(f"CogVideoX {model.variant}: {frames.shape[0]} frames {size[1]}x{size[0]}, {opts.steps} steps, "
                  f"cfg {opts.cfg}{' dynamic' if opts.dynamic_cfg else ''}, {sched}, seed {seed}")
    return frames


def prepare_noise(model, height: int, width: int, num_frames: int, generator):
    """Initial noise [1, F, C, h, w] for text to video (F padded to ``patch_size_t`` for 1.5, as
    ``CogVideoXPipeline``) and the number of extra leading latent frames to drop afterwards."""
    from diffusers.utils.torch_utils import randn_tensor

    tcfg, vcfg = model.components["transformer"].config, model.components["vae"].config
    s_scale, t_scale = 2 ** (len(vcfg.block_out_channels) - 1), vcfg.temporal_compression_ratio
    latent_frames = (num_frames - 1) // t_scale + 1
    extra = 0
    if tcfg.patch_size_t is not None and latent_frames % tcfg.patch_size_t:
        extra = tcfg.patch_size_t - latent_frames % tcfg.patch_size_t
    shape = (1, latent_frames + extra, tcfg.in_channels, height // s_scale, width // s_scale)
    return randn_tensor(shape, generator=generator, device=model.device, dtype=model.dtype), extra


def sample_text(model, size: tuple[int, int], prompt: str, negative_prompt: str = "", *, num_frames: int,
                steps=None, cfg=None, seed: int = 0, options: dict | None = None,
                report: list[str] | None = None) -> Any:
    """Generate ``num_frames`` frames of ``size`` (height, width) from text alone.

    Returns frames [num_frames, H, W, 3] float32 0..1; appends what it did to ``report``.
    """
    import torch

    report = report if report is not None else []
    opts = CogOptions.from_options(steps, cfg, options)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    embeds = encode_text(model, prompt, negative_prompt, opts.cfg > 1.0, report)
    latents, extra = prepare_noise(model, size[0], size[1], num_frames, generator)
    latents = denoise(model, latents, None, embeds, opts, generator, size)
    frames = decode(model, latents[:, extra:], opts.vae_tiling, report)
    sched = make_scheduler(model, opts.scheduler).__class__.__name__
    report.append(f"CogVideoX {model.variant}: {frames.shape[0]} frames {size[1]}x{size[0]}, {opts.steps} steps, "
                  f"cfg {opts.cfg}{' dynamic' if opts.dynamic_cfg else ''}, {sched}, seed {seed}")
    return frames
