"""Open-Sora 1.2 image-to-video engine: caption -> encode the framed image -> RFLOW -> decode.

Called by :func:`samplers.i2v.image_to_video` with the image already letterboxed into an aspect
bucket (as the VAE generates it: multiples of 8). Steps, as upstream's ``scripts/inference.py``:

1. caption: score suffixes appended, cleaned twice, T5 (300 tokens, float32, mask kept);
   longer captions are trimmed and reported;
2. the image is encoded by the Open-Sora VAE as a one-frame video (one latent frame) and written
   into the first latent frame (``cond_frames="first"``), the last one (``"last"``) or both
   (``"loop"``); those frames are conditioning frames (``x_mask`` False);
3. RFLOW (:mod:`samplers.rflow`): 30 steps, CFG 7 against the learned null caption, fps 24;
4. the latents are decoded to ``num_frames`` frames.

Random draws come from one CPU generator seeded with ``seed``: the VAE posterior sample of the
image first, then the initial noise.
"""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Callable

from .. import host
from ..errors import MotionComicError
from .options import build_options
from .preview import previewer_for

log = logging.getLogger(__name__)

COND_FRAMES = ("first", "last", "loop")


@dataclass
class OpenSoraOptions:
    """Sampling settings (defaults = upstream's v1.2 inference config)."""

    steps: int = 30
    cfg: float = 7.0
    fps: float = 24.0
    aesthetic_score: float | None = 6.5
    motion_score: float | None = None
    camera_motion: str = "none"
    cond_frames: str = "first"
    clean_caption: bool = True
    resolution: str = ""
    callback: Callable[[int, int], None] | None = None  # after each step (step, total)

    @classmethod
    def from_options(cls, steps=None, cfg=None, options: dict | None = None) -> "OpenSoraOptions":
        from ..loaders.opensora.text import CAMERA_MOTIONS

        opts = build_options(cls, "Open-Sora", steps, cfg, options, none_means_default=False)
        if opts.cond_frames not in COND_FRAMES:
            raise MotionComicError(f"cond_frames {opts.cond_frames!r} is unknown; use one of {', '.join(COND_FRAMES)}")
        if opts.camera_motion not in CAMERA_MOTIONS:
            raise MotionComicError(
                f"camera motion {opts.camera_motion!r} is unknown; use one of {', '.join(CAMERA_MOTIONS)}")
        return opts


def check_image(model, size: tuple[int, int]) -> None:
    """Refuse images smaller than the smallest bucket of their aspect (called before framing)."""
    from ..loaders.opensora.aspect import check_image_size

    check_image_size(int(size[0]), int(size[1]))


def encode_prompt(model, prompt: str, opts: OpenSoraOptions, report: list[str]):
    """Caption -> (y [1,1,L,C] float32, mask [1,L]) on the model's device."""
    from ..loaders.opensora.text import encode_captions, prepare_caption

    caption = prepare_caption(prompt, opts.aesthetic_score, opts.motion_score, opts.camera_motion, opts.clean_caption)
    enc, tok = model.components["text_encoder"], model.components["tokenizer"]
    with model.on_device(enc):
        out = encode_captions(enc, tok, [caption], model.text_tokens, device=model.device)
    report.append(f"caption ({min(out.tokens, model.text_tokens)}/{model.text_tokens} tokens): {caption}")
    if out.trimmed:
        report.append(f"caption had {out.tokens} tokens, Open-Sora reads {model.text_tokens}: trimmed "
                      f"{out.trimmed[:120]!r}{'...' if len(out.trimmed) > 120 else ''}")
    return out.y, out.mask


def condition_indices(mode: str, latent_frames: int) -> list[int]:
    if mode == "first":
        return [0]
    if mode == "last":
        return [latent_frames - 1]
    return sorted({0, latent_frames - 1})


def prepare(model, image, prompt: str, num_frames: int, opts: OpenSoraOptions, generator, report: list[str]) -> dict:
    """Caption features and the starting latents: noise with the encoded image written into the
    conditioning frames. Returns dict(z [1,4,T',h,w] float32, frame_mask [1,T'] bool (False =
    conditioning), y, mask, nominal (bucket height, width))."""
    import torch

    from ..loaders.opensora.aspect import latent_frames, nominal_size

    h, w = (int(s) for s in image.shape[1:3])
    if h % 8 or w % 8:
        raise MotionComicError(f"Open-Sora frames must be multiples of 8 pixels; got {w}x{h}")
    y, mask = encode_prompt(model, prompt, opts, report)
    x = image.permute(0, 3, 1, 2)[:, :, None].float() * 2 - 1  # [1,3,1,H,W] in -1..1
    vae = model.components["vae"]
    with model.on_device(vae):
        ref = vae.encode(x.to(model.device), generator=generator).float()  # [1,4,1,h,w]
    n_lat = latent_frames(num_frames)
    z = torch.randn((1, ref.shape[1], n_lat, ref.shape[3], ref.shape[4]), generator=generator).to(model.device)
    frame_mask = torch.ones(1, n_lat, dtype=torch.bool, device=model.device)
    for i in condition_indices(opts.cond_frames, n_lat):
        z[:, :, i] = ref[:, :, 0]
        frame_mask[:, i] = False
    return dict(z=z, frame_mask=frame_mask, y=y, mask=mask, ref=ref, nominal=nominal_size((h, w), opts.resolution or None))


def denoise(model, prep: dict, num_frames: int, opts: OpenSoraOptions):
    """RFLOW from the prepared latents; returns clean latents [1,4,T',h,w] float32."""
    from .rflow import sample_rflow

    stdit = model.components["stdit"]
    bar = host.Progress(opts.steps, "Open-Sora RFLOW")
    cb = None if opts.callback is None else (lambda i, _z: opts.callback(i + 1, opts.steps))
    with model.on_device(stdit):
        return sample_rflow(stdit, prep["z"], prep["y"].to(model.device), prep["mask"].to(model.device),
                            steps=opts.steps, cfg_scale=opts.cfg, height=prep["nominal"][0], width=prep["nominal"][1],
                            num_frames=num_frames, fps=opts.fps, frame_mask=prep["frame_mask"], progress=bar,
                            callback=cb, preview=previewer_for("opensora"))


def decode(model, z, num_frames: int):
    """Latents -> frames [num_frames, H, W, 3] float32 0..1 on the CPU."""
    vae = model.components["vae"]
    with model.on_device(vae):
        video = vae.decode(z, num_frames=num_frames)  # [1,3,N,H,W] about -1..1
    return ((video[0].permute(1, 2, 3, 0).float() + 1) / 2).clamp(0, 1).cpu().contiguous()


def check_options(model, steps=None, cfg=None, options: dict | None = None) -> None:
    """The settings (conditioning frames, camera motion, ...), checked before the weights are read."""
    OpenSoraOptions.from_options(steps, cfg, options)


def sample(model, image, prompt: str, negative_prompt: str = "", *, num_frames: int, steps=None, cfg=None,
           seed: int = 0, options: dict | None = None, report: list[str] | None = None) -> Any:
    """Generate ``num_frames`` frames from ``image`` ([1,H,W,3] float 0..1 at a bucket frame).

    Returns frames [num_frames, H, W, 3] float32 0..1; appends what it did to ``report``.
    """
    import torch

    report = report if report is not None else []
    opts = OpenSoraOptions.from_options(steps, cfg, options)
    if negative_prompt and negative_prompt.strip():
        report.append("negative prompt ignored: Open-Sora guides against its learned null caption")
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    prep = prepare(model, image, prompt, num_frames, opts, generator, report)
    frames = decode(model, denoise(model, prep, num_frames, opts), num_frames)
    h, w = frames.shape[1:3]
    nominal = prep["nominal"]
    report.append(f"Open-Sora STDiT3: {frames.shape[0]} frames {w}x{h} (bucket {nominal[1]}x{nominal[0]}), "
                  f"{opts.steps} steps, cfg {opts.cfg}, fps {opts.fps:g}, cond {opts.cond_frames}, seed {seed}")
    return frames
