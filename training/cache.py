"""Precompute what training reads every step, once, streamed to disk one clip at a time.

Per clip two safetensors files under ``OUT/cache/``: ``<id>.text.safetensors`` (T5 embeddings
[tokens, dim]) and ``<id>.video.safetensors`` (VAE latents [F, C, h, w], already multiplied by
the VAE scaling factor as the official trainer does, and the letterboxed first frame as uint8
[H, W, 3] for the per-step noisy image latent). The text pass holds only the T5 on the device,
the video pass only the VAE, and one clip's frames at a time, so memory does not grow with the
number of clips. A file whose ``key`` (clip, caption, frames, frame size, model) matches is reused,
so an interrupted caching pass resumes where it stopped.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .. import host
from ..samplers import framing as fr

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedClip:
    """A clip ready for training: its cache files and its bucket (frame height, width)."""

    id: str
    text: Path
    video: Path
    frame: tuple[int, int]


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _valid(path: Path, key: str) -> bool:
    from ..loaders import checkpoints

    try:
        return path.is_file() and checkpoints.safetensors_metadata(path).get("key") == key
    except Exception:  # noqa: BLE001 - a half-written file is simply redone
        return False


def _save(tensors: dict, path: Path, key: str) -> None:
    from safetensors.torch import save_file

    tmp = path.with_suffix(".tmp")
    save_file({k: v.contiguous().cpu() for k, v in tensors.items()}, str(tmp), metadata={"key": key})
    os.replace(tmp, path)  # atomic: a killed process never leaves a half file under the real name


def clip_frames(model, record, resolution: int = 0) -> tuple[int, int]:
    """The training frame (bucket) of a clip: the frame inference would use for its first frame."""
    return fr.choose_frame(model.frame, (record.height, record.width), resolution or None)


def build_cache(model, root: str | os.PathLike, records: list, num_frames: int, cache_dir: Path, *,
                resolution: int = 0, seed: int = 0, device=None) -> list[CachedClip]:
    """Encode every clip's caption and frames (see module docstring). Progress per clip, cancellable."""
    import torch

    cache_dir.mkdir(parents=True, exist_ok=True)
    device = device or model.device
    ident = [model.variant, model.info.get("path", model.name), model.text_tokens]
    plan = []
    for rec in records:
        frame = clip_frames(model, rec, resolution)
        base = cache_dir / rec.id
        plan.append((rec, frame, Path(f"{base}.text.safetensors"), Path(f"{base}.video.safetensors"),
                     _key(ident, rec.id, rec.caption), _key(ident, rec.id, num_frames, frame, seed)))
    todo_text = [p for p in plan if not _valid(p[2], p[4])]
    todo_video = [p for p in plan if not _valid(p[3], p[5])]
    log.info("cache: %d clips, %d captions and %d videos to encode", len(plan), len(todo_text), len(todo_video))
    if todo_text:
        enc, tok = model.components["text_encoder"], model.components["tokenizer"]
        progress = host.Progress(len(todo_text), "cache captions")
        with host.on_device(enc, device, offload=True), torch.no_grad():
            for rec, _f, text_path, _v, key, _k in todo_text:
                ids = tok([rec.caption], padding="max_length", max_length=model.text_tokens, truncation=True,
                          add_special_tokens=True, return_tensors="pt").input_ids
                embeds = enc(ids.to(device))[0][0].to(model.dtype)
                _save({"embeds": embeds}, text_path, key)
                progress.step()
    if todo_video:
        vae = model.components["vae"]
        progress = host.Progress(len(todo_video), "cache latents")
        with host.on_device(vae, device, offload=True), torch.no_grad():
            for rec, frame, _t, video_path, _k, key in todo_video:
                _save(_encode_clip(model, vae, root, rec, num_frames, frame, seed, device), video_path, key)
                progress.step()
    return [CachedClip(rec.id, t, v, frame) for rec, frame, t, v, _a, _b in plan]


def _encode_clip(model, vae, root, rec, num_frames: int, frame: tuple[int, int], seed: int, device) -> dict:
    import torch

    from ..media.images import load_image
    from ..media.video import read_video

    frames, _fps = read_video(rec.path(root), max_frames=num_frames)
    frames = torch.from_numpy(frames)
    plan = fr.plan_frame((frames.shape[1], frames.shape[2]), frame, "pad")
    video = fr.apply_plan(frames, plan)  # [F,H,W,3] 0..1, the inference letterbox
    image = fr.apply_plan(torch.from_numpy(load_image(rec.image_path(root)))[..., :3], plan)[0]
    pixels = (video.movedim(-1, 0).unsqueeze(0) * 2 - 1).to(device, model.dtype)  # [1,3,F,H,W]
    gen = torch.Generator().manual_seed(int(_key(seed, rec.id)[:8], 16))
    tile = frame[0] * frame[1] > 480 * 720
    if tile:
        vae.enable_tiling()
    try:
        latents = vae.encode(pixels).latent_dist.sample(gen) * vae.config.scaling_factor
    finally:
        if tile:
            vae.disable_tiling()
    return {"latents": latents[0].permute(1, 0, 2, 3).to(model.dtype),  # [F,C,h,w]
            "image": (image * 255).round().to(torch.uint8)}


def load_batch(clips: list[CachedClip], device, dtype) -> dict:
    """Stacked batch: ``latents`` [B,F,C,h,w], ``embeds`` [B,T,D], ``image`` [B,3,H,W] in -1..1."""
    import torch
    from safetensors.torch import load_file

    lat, emb, img = [], [], []
    for c in clips:
        v, t = load_file(str(c.video)), load_file(str(c.text))
        lat.append(v["latents"])
        img.append(v["image"].float().div(255).movedim(-1, 0) * 2 - 1)
        emb.append(t["embeds"])
    return {"latents": torch.stack(lat).to(device, dtype), "embeds": torch.stack(emb).to(device, dtype),
            "image": torch.stack(img).to(device, dtype)}
