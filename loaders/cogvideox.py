"""Load CogVideoX models (image-to-video and text-to-video) from the places users keep them.

- A diffusers folder ``models/CogVideo/<name>/`` or ``models/diffusers/<name>/`` holding
  ``model_index.json``, ``transformer/``, ``vae/``, ``text_encoder/``, ``tokenizer/`` and
  ``scheduler/`` (as downloaded from THUDM/CogVideoX-5b-I2V, THUDM/CogVideoX1.5-5B-I2V, or the
  text-to-video THUDM/CogVideoX-5b, THUDM/CogVideoX-2b, THUDM/CogVideoX1.5-5B).
- A single-file transformer ``models/diffusion_models/<file>.safetensors`` (diffusers key names),
  its variant and config recognised from tensor shapes, plus a VAE (``models/vae/`` file or a
  folder) and a T5 encoder (``models/text_encoders/t5xxl_*.safetensors`` or a folder) with its
  tokenizer (see ``loaders/t5.py``).

Weights are read with ``loaders/checkpoints`` into modules built on the meta device, so loading
never holds two full copies. The result is a :class:`~.video_model.VideoModel`.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable

from .. import host
from ..errors import CheckpointError, MotionComicError, ModelNotFoundError
from . import checkpoints
from .cogvideox_config import (
    HF_REPOS, SCHEDULER_CONFIG, rules_for, transformer_config_from_checkpoint, variant_of_config,
    vae_config_from_shapes,
)
from .t5 import load_t5_encoder

log = logging.getLogger(__name__)

FROM_FOLDER = "(from model folder)"
OFFLOAD_MODES = ("none", "model", "sequential")
DTYPES = ("bf16", "fp16", "fp32")
_WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.safetensors.index.json",
            "model.safetensors", "model.safetensors.index.json", "diffusion_pytorch_model.bin",
            "pytorch_model.bin", "pytorch_model.bin.index.json")
#: Files of a diffusers folder: (what, alternatives (any one suffices)).
FOLDER_FILES = {
    "transformer": (("transformer/config.json",), tuple("transformer/" + w for w in _WEIGHTS)),
    "vae": (("vae/config.json",), tuple("vae/" + w for w in _WEIGHTS)),
    "text_encoder": (("text_encoder/config.json",), tuple("text_encoder/" + w for w in _WEIGHTS)),
    "tokenizer": (("tokenizer/spiece.model", "tokenizer/tokenizer.json"),),
    "scheduler": (("scheduler/scheduler_config.json",),),
}


# --------------------------------------------------------------------------- choices and paths
def model_choices() -> list[str]:
    """Folders under CogVideo/ and diffusers/ plus single files under diffusion_models/."""
    folders = host.list_dirs("CogVideo") + [d for d in host.list_dirs("diffusers") if d not in host.list_dirs("CogVideo")]
    files = host.list_files("diffusion_models", checkpoints.CHECKPOINT_EXT)
    return folders + files


MODEL_KINDS = ("CogVideo", "diffusers", "diffusion_models")


def resolve_model(name: str | os.PathLike) -> Path:
    """The model folder or transformer file ``name`` names inside the model folders (see
    ``host.find_model``: a ``Path`` is taken as given, a string only inside the folders)."""
    hint = (f"Download {HF_REPOS['1.0-i2v']} or {HF_REPOS['1.5-i2v']} into models/CogVideo/<name>/ "
            "(huggingface-cli download <repo> --local-dir models/CogVideo/<name>), or put a single-file "
            "transformer into models/diffusion_models/.")
    return host.find_model(MODEL_KINDS, name, hint, what="CogVideoX model")


def missing_folder_files(folder: Path, parts=tuple(FOLDER_FILES)) -> list[str]:
    """Files a diffusers CogVideoX folder lacks (one entry per missing requirement)."""
    missing = []
    for part in parts:
        for alternatives in FOLDER_FILES[part]:
            if not any((folder / a).exists() for a in alternatives):
                missing.append(" or ".join(alternatives[:2]))
    return missing


def torch_dtype(dtype: Any, variant: str, device) -> Any:
    """The compute dtype: ``auto`` = bf16 on GPUs, fp32 on CPU; fp16 is refused for 1.5."""
    import torch

    if not isinstance(dtype, str):
        chosen = dtype
    elif dtype == "auto":
        chosen = torch.float32 if torch.device(device).type == "cpu" else torch.bfloat16
    else:
        names = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16,
                 "float16": torch.float16, "fp32": torch.float32, "float32": torch.float32}
        if dtype not in names:
            raise MotionComicError(f"dtype {dtype!r} is unknown; use bf16, fp16, fp32 or auto")
        chosen = names[dtype]
    if chosen == torch.float16 and variant.startswith("1.5"):
        raise MotionComicError(
            "CogVideoX 1.5 does not work in fp16: its activations overflow and the video comes out black "
            "(NaN). Use bf16 (GPUs since RTX 30xx / A100), or fp32 on older GPUs."
        )
    return chosen


# --------------------------------------------------------------------------- parts
def _load_transformer_file(path: Path, dtype, device):
    """(variant, config, transformer, dtype) of a single file; ``dtype(variant)`` picks the dtype."""
    from accelerate import init_empty_weights
    from diffusers import CogVideoXTransformer3DModel

    shapes = checkpoints.read_shapes(path)
    first = lambda n: next(checkpoints.iter_tensors(path, [n]))[1]  # noqa: E731
    variant, cfg = transformer_config_from_checkpoint(shapes, path, read_tensor=first)
    dtype = dtype(variant)
    with init_empty_weights():
        model = CogVideoXTransformer3DModel.from_config(cfg)
    missing, unexpected = checkpoints.assign_tensors(model, checkpoints.iter_tensors(path), dtype=dtype, device=device)
    if missing or unexpected:
        raise CheckpointError(
            f"{path.name} does not match a CogVideoX {variant} transformer: missing "
            f"{', '.join(missing[:6]) or 'none'}; unexpected {', '.join(unexpected[:6]) or 'none'}."
        )
    return variant, cfg, model.eval(), dtype


def _load_vae(source: Path, variant: str, dtype, device):
    from diffusers import AutoencoderKLCogVideoX

    if source.is_dir():
        folder = source / "vae" if (source / "vae" / "config.json").exists() else source
        if not (folder / "config.json").exists():
            raise ModelNotFoundError(f"{source} has no vae/config.json; get vae/ from {HF_REPOS[variant]}.")
        return AutoencoderKLCogVideoX.from_pretrained(str(folder), torch_dtype=dtype).to(device).eval()
    from accelerate import init_empty_weights

    shapes = checkpoints.read_shapes(source)
    try:
        cfg = vae_config_from_shapes(shapes, variant)
    except CheckpointError as e:
        raise CheckpointError(f"{source.name} is {e}") from None
    with init_empty_weights():
        vae = AutoencoderKLCogVideoX.from_config(cfg)
    missing, unexpected = checkpoints.assign_tensors(vae, checkpoints.iter_tensors(source), dtype=dtype, device=device)
    if missing:
        raise CheckpointError(f"{source.name} lacks CogVideoX VAE weights: {', '.join(missing[:6])}")
    return vae.eval()


def _resolve_part(kind: str, name: str | os.PathLike | None, folder: Path | None, what: str, repo: str) -> Path:
    if name and name != FROM_FOLDER:
        return host.find_model(kind, name, f"Get the {what} from {repo}.", what=what)
    if folder is None:
        raise MotionComicError(
            f"A single-file transformer needs a {what}: choose one (models/{kind}/), or load the "
            f"diffusers folder of {repo} instead."
        )
    return folder


module_bytes = host.module_bytes


def apply_offload(components: dict, mode: str, device,
                  names: Iterable[str] = ("transformer", "vae", "text_encoder")) -> None:
    """Place the modules ``names`` of ``components`` for ``mode``: none = all on ``device``; model
    = all on the offload device (the sampler moves each to ``device`` while it runs); sequential =
    accelerate hooks that move each layer's weights to ``device`` just in time."""
    if mode not in OFFLOAD_MODES:
        raise MotionComicError(f"offload {mode!r} is unknown; use one of {', '.join(OFFLOAD_MODES)}")
    mods = [components[k] for k in names]
    if mode == "none":
        host.place(mods, device)  # ComfyUI unloads its own models first
    elif mode == "model":
        for m in mods:
            m.to(host.offload_device())
    else:
        from accelerate import cpu_offload

        for m in mods:
            m.to(host.offload_device())
            cpu_offload(m, execution_device=device)


# --------------------------------------------------------------------------- entry
def load_cogvideox(model: str, vae: str | None = None, t5: str | None = None, *, dtype: Any = "auto",
                   device: Any = None, offload: str = "none", tokenizer_dir: str | None = None):
    """Load a CogVideoX model, I2V or T2V (folder or single-file transformer), into a ``VideoModel``
    (``task`` says which; the Image to Video and Text to Video entries each refuse the other).

    ``vae``/``t5``: None or ``"(from model folder)"`` to use the folder's parts, else a name under
    models/vae/ or models/text_encoders/ (file or folder) or a path. ``dtype``: auto/bf16/fp16/fp32
    or a torch dtype. ``offload``: none/model/sequential.
    """
    import torch

    from .video_model import VideoModel

    device = torch.device(device) if device is not None else host.torch_device()
    path = resolve_model(model)
    folder = path if path.is_dir() else None
    if folder is not None:
        parts = ["transformer", "scheduler"]
        parts += ["vae"] if vae in (None, FROM_FOLDER) else []
        parts += ["text_encoder", "tokenizer"] if t5 in (None, FROM_FOLDER) and not tokenizer_dir else []
        missing = missing_folder_files(folder, parts)
        if missing:
            cfg_file = folder / "transformer" / "config.json"
            try:
                repos = [HF_REPOS[variant_of_config(json.loads(cfg_file.read_text()))]]
            except (OSError, ValueError):
                repos = list(HF_REPOS.values())
            raise ModelNotFoundError(
                f"The CogVideoX folder {folder} is incomplete; missing: {'; '.join(missing)}. Download the "
                f"missing parts from {' or '.join('https://huggingface.co/' + r for r in repos)} "
                "keeping the same sub-folders."
            )
        cfg = json.loads((folder / "transformer" / "config.json").read_text())
        variant = variant_of_config(cfg, str(folder))
        dt = torch_dtype(dtype, variant, device)
        from diffusers import CogVideoXTransformer3DModel

        transformer = CogVideoXTransformer3DModel.from_pretrained(str(folder / "transformer"), torch_dtype=dt).eval()
        sched_cfg = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())
    else:
        variant, cfg, transformer, dt = _load_transformer_file(
            path, lambda v: torch_dtype(dtype, v, device), "cpu")
        sched_cfg = dict(SCHEDULER_CONFIG, _class_name="CogVideoXDDIMScheduler")

    repo = HF_REPOS[variant]
    vae_src = _resolve_part("vae", vae, folder, "CogVideoX VAE", repo + " (vae/)")
    vae_model = _load_vae(vae_src, variant, dt, "cpu")
    t5_src = _resolve_part("text_encoders", t5, folder, "T5 text encoder (t5xxl_fp16.safetensors)", repo + " (text_encoder/)")
    text_encoder, tokenizer = load_t5_encoder(t5_src, dt, "cpu", tokenizer_dir=tokenizer_dir)

    components = dict(transformer=transformer, vae=vae_model, text_encoder=text_encoder,
                      tokenizer=tokenizer, scheduler_config=sched_cfg)
    apply_offload(components, offload, device)
    vae_scale = 2 ** (len(vae_model.config.block_out_channels) - 1)
    rules = rules_for(variant, dict(transformer.config), vae_scale)
    name = path.name if folder is not None else path.stem
    log.info("loaded CogVideoX %s from %s (%s, %s, offload %s)", variant, path, dt, device, offload)
    return VideoModel(
        family="cogvideox", variant=variant, task=variant.rsplit("-", 1)[1], components=components, dtype=dt, device=device,
        offload=offload, name=name, info={"path": str(path), "vae": str(vae_src), "t5": str(t5_src)},
        **rules,
    )
