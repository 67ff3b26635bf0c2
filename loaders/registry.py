"""``load_video_model``: one call that loads any supported I2V model, dispatching on what the files
are (diffusers ``model_index.json`` class, or tensor names of a single file), never on file names.

Adding a family = one row in :data:`LOADERS` (module under ``loaders/`` + function taking
``(name_or_path, dtype=, device=, offload=)``) and, if its files look different, one row in
:data:`FOLDER_CLASSES` / :data:`CHECKPOINT_FAMILIES`.
"""
from __future__ import annotations

import importlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from .. import host
from ..errors import CheckpointError, MotionComicError, ModelNotFoundError
from . import checkpoints
from .identify import describe_checkpoint

log = logging.getLogger(__name__)

#: family -> (module in loaders/, function)
LOADERS: dict[str, tuple[str, str]] = {
    "cogvideox": ("cogvideox", "load_cogvideox"),
    "opensora": ("opensora.pipeline", "load_opensora"),
    "svd": ("svd", "load_svd"),
    "mimicmotion": ("mimicmotion", "load_mimicmotion"),
    "wan": ("wan", "load_wan"),
}
#: model_index.json ``_class_name`` prefix -> family
FOLDER_CLASSES: dict[str, str] = {"CogVideoX": "cogvideox", "StableVideoDiffusion": "svd", "Wan": "wan"}
#: identify.describe_checkpoint() name -> family
CHECKPOINT_FAMILIES: dict[str, str] = {"CogVideoX transformer": "cogvideox", "Open-Sora ST-DiT (STDiT3)": "opensora",
                                       "MimicMotion (UNet + PoseNet)": "mimicmotion",
                                       "Stable Video Diffusion UNet (diffusers)": "mimicmotion",
                                       "Wan transformer": "wan", "Wan transformer (ComfyUI prefix)": "wan",
                                       "Wan transformer (diffusers names)": "wan"}
#: model folders searched for a bare name, in order
SEARCH_KINDS = ("CogVideo", "diffusers", "diffusion_models", "opensora", "mimicmotion")


def resolve(name_or_path: str | os.PathLike) -> Path:
    """A model folder or file inside the model folders (``host.find_model``: a ``Path`` is taken as
    given, a string only inside :data:`SEARCH_KINDS`)."""
    return host.find_model(SEARCH_KINDS, name_or_path, "Put diffusers folders in models/CogVideo/<name>/ "
                           "and single-file transformers in models/diffusion_models/.", what="model")


def detect_family(path: Path) -> str:
    """The family of a model folder or checkpoint file, from its contents."""
    index = path / "model_index.json" if path.is_dir() else None
    if index is not None and index.exists():
        cls = json.loads(index.read_text()).get("_class_name", "")
        for prefix, family in FOLDER_CLASSES.items():
            if cls.startswith(prefix):
                return family
        raise CheckpointError(f"{path} is a diffusers {cls or 'pipeline'} folder, not a model this pack animates with")
    if path.is_dir():
        for sub in ("transformer", "."):
            try:
                keys = checkpoints.read_shapes(path / sub)
                break
            except CheckpointError:
                keys = {}
    else:
        keys = checkpoints.read_shapes(path)
    what = describe_checkpoint(keys)
    for name, family in CHECKPOINT_FAMILIES.items():
        if what == name:
            return family
    raise CheckpointError(
        f"{path.name} looks like {what}, which is not an image-to-video model this pack supports "
        f"({', '.join(LOADERS)})."
    )


def load_video_model(name_or_path: str | os.PathLike, *, family: str = "auto", dtype: Any = "auto", device: Any = None,
                     offload: str = "none", defer: bool = False, **kwargs: Any):
    """Load an I2V model by name (searched in the model folders) or path into a ``VideoModel``.

    ``family``: ``auto`` (detect from the files) or a key of :data:`LOADERS`. Extra keyword
    arguments go to the family loader (e.g. ``vae=``, ``t5=`` for CogVideoX single files).
    ``defer``: only describe the model (rules, tokenizer, every file resolved) and load the weights at
    ``ensure_loaded()`` (loader nodes do this, so the sampler checks its inputs first).
    """
    path = resolve(name_or_path)
    fam = detect_family(path) if family == "auto" else family
    if fam not in LOADERS:
        raise MotionComicError(f"model family {fam!r} is unknown; choose one of {', '.join(LOADERS)}")
    module, func = LOADERS[fam]
    loader = getattr(importlib.import_module(f".{module}", __package__), func)

    def load():
        log.info("loading %s as %s", path, fam)
        model = loader(path, dtype=dtype, device=device, offload=offload, **kwargs)
        register(model)
        return model

    if defer:
        from .deferred import describe

        described = describe(path, fam, load, dtype=dtype, device=device, offload=offload, **kwargs)
        if described is not None:
            return described
    return load()


def register(model) -> None:
    """Make a loaded model's components known to ComfyUI's model management (no-op standalone), so
    "Unload models", ``/free`` and memory pressure release them. Sequential offload is left to its
    accelerate hooks."""
    if model.offload == "sequential":
        return
    modules = model.modules()
    host.manage(model, modules, model.name or model.variant, model.device)
    if model.offload == "none":
        host.place(list(modules.values()), model.device)
