"""Describe first, load later: a loader node hands out a model whose rules are known and whose weights
are not read yet.

In a ComfyUI graph the loader runs before the sampler. A 5B model takes minutes to load, so a wrong
frame count or a too-small image should be reported before that. :func:`describe` reads only what the
rules need (``config.json`` files, safetensors headers, the tokenizer, which Expand Prompt uses to
count tokens), resolves every file the full load will need (a missing VAE is reported now), and returns
a :class:`~.video_model.VideoModel` whose ``ensure_loaded()`` performs the real load once, after the
sampler has checked its inputs. ComfyUI caches the loader's output, so the weights are read once and
reused by later runs, as with an eager loader.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable

from .. import host
from ..errors import MotionComicError
from .video_model import VideoModel

log = logging.getLogger(__name__)


def _cogvideox(path: Path, kw: dict) -> VideoModel:
    import torch

    from .cogvideox import FROM_FOLDER, _resolve_part, torch_dtype
    from .cogvideox_config import HF_REPOS, rules_from_files
    from .t5 import load_tokenizer

    variant, rules = rules_from_files(str(path), path.stat().st_mtime)
    device = torch.device(kw["device"]) if kw.get("device") is not None else host.torch_device()
    dtype = torch_dtype(kw.get("dtype", "auto"), variant, device)  # fp16 for 1.5 is refused here, early
    folder = path if path.is_dir() else None
    repo = HF_REPOS[variant]
    vae = _resolve_part("vae", kw.get("vae"), folder, "CogVideoX VAE", repo + " (vae/)")
    t5 = _resolve_part("text_encoders", kw.get("t5"), folder, "T5 text encoder (t5xxl_fp16.safetensors)",
                       repo + " (text_encoder/)")
    tok_dir = kw.get("tokenizer_dir") or (folder / "tokenizer" if folder is not None and kw.get("t5") in (None, FROM_FOLDER) else None)
    tokenizer = load_tokenizer(tok_dir, encoder_path=t5 if t5.is_dir() or folder is None else None)
    name = path.name if folder is not None else path.stem
    return VideoModel(family="cogvideox", variant=variant, task=variant.rsplit("-", 1)[1],
                      components={"tokenizer": tokenizer}, dtype=dtype,
                      device=device, offload=kw.get("offload", "none"), name=name,
                      info={"path": str(path), "vae": str(vae), "t5": str(t5), "deferred": True}, **rules)


def _opensora(path: Path, kw: dict) -> VideoModel:
    import torch

    from . import checkpoints
    from .opensora import aspect
    from .opensora.load import find_config_json, infer_config
    from .opensora.pipeline import T5_REPO, VAE_REPO, _display_name, find_part, resolve_dtype
    from .t5 import load_tokenizer

    shapes = checkpoints.read_shapes(path)
    cfg = infer_config(shapes, find_config_json(path))
    if not kw.get("vae"):
        raise MotionComicError(f"choose the Open-Sora VAE file ({VAE_REPO} model.safetensors in models/vae/)")
    if not kw.get("t5"):
        raise MotionComicError(f"choose the T5 text encoder ({T5_REPO} folder or t5xxl_fp16.safetensors)")
    find_part(("vae", "opensora"), kw["vae"], "Open-Sora VAE", VAE_REPO)  # missing: said now
    t5 = find_part(("text_encoders", "opensora"), kw["t5"], "T5 encoder", T5_REPO)
    device = torch.device(kw["device"]) if kw.get("device") is not None else host.torch_device()
    tokenizer = load_tokenizer(kw.get("tokenizer_dir"), encoder_path=t5)
    return VideoModel(family="opensora", variant=f"stdit3-h{cfg.hidden_size}-d{cfg.depth}",
                      components={"tokenizer": tokenizer}, dtype=resolve_dtype(kw.get("dtype", "auto"), device),
                      device=device, frame=aspect.frame_spec(), frame_counts=aspect.FRAME_COUNTS,
                      text_tokens=cfg.model_max_length, fps=aspect.FPS, offload=kw.get("offload", "none"),
                      name=_display_name(path), info={"path": str(path), "deferred": True})


def _wan(path: Path, kw: dict) -> VideoModel:
    import torch

    from .cogvideox import torch_dtype
    from .umt5 import load_umt5_tokenizer
    from .wan import plan_files, rules_from_files

    f = plan_files(path, kw.get("model_2"), kw.get("vae"), kw.get("text_encoder"))  # experts, VAE generation
    _, rules = rules_from_files(str(f.path), f.path.stat().st_mtime)
    device = torch.device(kw["device"]) if kw.get("device") is not None else host.torch_device()
    te = f.text_encoder / "text_encoder" if (f.text_encoder / "model_index.json").exists() else f.text_encoder
    tokenizer = load_umt5_tokenizer(kw.get("tokenizer_dir"), te)
    name = f.path.name if f.folder is not None else f.path.stem
    return VideoModel(family="wan", variant=f.variant,
                      components={"tokenizer": tokenizer, "defaults": f.defaults, "scheduler_config": f.scheduler_config},
                      dtype=torch_dtype(kw.get("dtype", "auto"), f.variant, device), device=device,
                      offload=kw.get("offload", "none"), name=name,
                      info={"path": str(f.path), "vae": str(f.vae), "text_encoder": str(f.text_encoder), "deferred": True},
                      **rules)


def _svd(path: Path, kw: dict) -> VideoModel:
    from .svd import plan_svd, svd_model

    offload = kw.get("offload", "none")
    folder, dtype, device, rules = plan_svd(path, dtype=kw.get("dtype", "auto"), device=kw.get("device"),
                                            offload=offload)
    return svd_model(folder, {}, dtype, device, offload, rules, deferred=True)


def _mimicmotion(path: Path, kw: dict) -> VideoModel:
    from .mimicmotion import mimicmotion_model, plan_mimicmotion

    args = {k: kw[k] for k in ("svd_folder", "pose_net", "version", "dtype", "device", "offload") if k in kw}
    plan = plan_mimicmotion(path, **args)
    model = mimicmotion_model(plan, {}, args.get("version", "1.1"), args.get("offload", "none"))
    model.info["deferred"] = True
    return model


#: family -> describe(path, loader kwargs) -> VideoModel without weights. A family without a row is
#: loaded at once (its checks then run after loading).
DESCRIBERS: dict[str, Callable[[Path, dict], VideoModel]] = {"cogvideox": _cogvideox, "opensora": _opensora,
                                                              "wan": _wan, "svd": _svd, "mimicmotion": _mimicmotion}


def describe(path: Path, family: str, load: Callable[[], VideoModel], **kw: Any) -> VideoModel | None:
    """The model ``load()`` would give, without its weights, or None when ``family`` cannot be
    described cheaply. ``ensure_loaded()`` on the result calls ``load`` once."""
    fn = DESCRIBERS.get(family)
    if fn is None:
        return None
    model = fn(Path(os.fspath(path)), kw)
    model.loader = load
    return model
