"""Load Wan 2.2 image-to-video models (TI2V-5B, I2V-A14B) from the places users keep them.

- A diffusers folder ``models/diffusers/<name>/`` as downloaded from ``Wan-AI/Wan2.2-TI2V-5B-Diffusers``
  or ``Wan-AI/Wan2.2-I2V-A14B-Diffusers``: ``model_index.json``, ``transformer/`` (and
  ``transformer_2/`` for A14B), ``vae/``, ``text_encoder/``, ``tokenizer/``, ``scheduler/``.
- ComfyUI single files: the transformer(s) in ``models/diffusion_models/`` (original Wan key
  layout, fp16/bf16 or scaled fp8; A14B as a high-noise and a low-noise file), the VAE in
  ``models/vae/`` (``wan2.2_vae.safetensors`` for TI2V-5B, ``wan_2.1_vae.safetensors`` for A14B)
  and umT5 in ``models/text_encoders/`` (see ``loaders/umt5.py``).

The variant comes from tensor shapes / configs (``loaders/wan_config.py``), never from file
names. Single files are read tensor by tensor into modules built on the meta device, renamed on
the way (``loaders/wan_keys.py``), so loading holds one copy of the weights.
"""
from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import host
from ..errors import CheckpointError, MotionComicError, ModelNotFoundError
from . import checkpoints, wan_keys
from .cogvideox import FROM_FOLDER, apply_offload, torch_dtype
from .t5 import _comfy_tensors
from .umt5 import load_umt5_encoder
from .wan_config import (
    COMFY_FILES, COMFY_REPO, DEFAULTS, HF_REPOS, NAMES, SCHEDULER_CONFIG, VAE_GENERATION, rules_for,
    transformer_config_from_shapes, vae_config_from_shapes, vae_generation, variant_of_config,
)

log = logging.getLogger(__name__)

NONE = "(none)"
_FILE_KIND = "diffusion_models"
_SCALE_SUFFIXES = (".scale_weight", ".scale_input")


# --------------------------------------------------------------------------- choices and paths
def _is_wan_folder(folder: Path) -> bool:
    try:
        return json.loads((folder / "model_index.json").read_text()).get("_class_name", "").startswith("Wan")
    except (OSError, ValueError):
        return False


def model_choices() -> list[str]:
    """Wan diffusers folders under diffusers/ plus single files under diffusion_models/."""
    folders = [d for d in host.list_dirs("diffusers", "model_index.json")
               if any(_is_wan_folder(r / d) for r in host.search_paths("diffusers"))]
    return folders + host.list_files(_FILE_KIND, checkpoints.SAFETENSORS_EXT)


MODEL_KINDS = ("diffusers", "diffusion_models")


def resolve_model(name: str | os.PathLike) -> Path:
    """The Wan folder or transformer file ``name`` names inside the model folders (``host.find_model``:
    a ``Path`` is taken as given, a string only inside the folders)."""
    hint = (f"Download {HF_REPOS['ti2v-5b']} or {HF_REPOS['i2v-a14b']} into models/diffusers/<name>/, or put "
            f"{COMFY_FILES['ti2v-5b'][0]} (from {COMFY_REPO}) into models/diffusion_models/.")
    return host.find_model(MODEL_KINDS, name, hint, what="Wan model")


def _part(kind: str, name: str | os.PathLike | None, what: str, where: str) -> Path | None:
    if not name or name in (FROM_FOLDER, NONE):
        return None
    return host.find_model(kind, name, f"Get the {what} from {where}.", what=what)


# --------------------------------------------------------------------------- single files
def _file_tensors(path: Path, shapes: dict, key_map):
    """(diffusers name, tensor) pairs of an original-layout file, scaled fp8 multiplied back (as for
    ComfyUI's T5 files); the ``scaled_fp8`` marker, also under ``model.diffusion_model.``, is dropped."""
    for name, t in _comfy_tensors(path, shapes):
        new = None if name.endswith("scaled_fp8") else key_map(name)
        if new is not None:
            yield new, t


def _file_shapes(path: Path) -> tuple[dict, Any]:
    """(shapes under diffusers names, key renaming) of a single-file transformer."""
    raw = {k: v for k, v in checkpoints.read_shapes(path).items()
           if not k.endswith(_SCALE_SUFFIXES) and not k.endswith("scaled_fp8")}
    rename = wan_keys.transformer_key if wan_keys.is_original_transformer(raw) else (lambda k: k)
    return {rename(k): v for k, v in raw.items()}, rename


def _load_transformer_file(path: Path, dtype_for, device="cpu"):
    from accelerate import init_empty_weights
    from diffusers import WanTransformer3DModel

    shapes, rename = _file_shapes(path)
    variant, cfg = transformer_config_from_shapes(shapes, path.name)
    dtype = dtype_for(variant)
    with init_empty_weights():
        model = WanTransformer3DModel.from_config(cfg)
    keep = tuple(getattr(model, "_keep_in_fp32_modules", None) or ())
    missing, unexpected = checkpoints.assign_tensors(
        model, _file_tensors(path, checkpoints.read_shapes(path), rename), dtype=dtype, device=device, keep_dtype=keep)
    if missing or unexpected:
        raise CheckpointError(
            f"{path.name} does not match a {NAMES[variant]} transformer: missing {', '.join(missing[:6]) or 'none'}; "
            f"unexpected {', '.join(unexpected[:6]) or 'none'}.")
    keep_fp32_modules(model, dtype)
    return variant, model.eval(), dtype


def keep_fp32_modules(model, dtype) -> None:
    """The modules diffusers keeps in float32 (``_keep_in_fp32_modules``: for Wan the RoPE, time
    embedder, modulation tables and norms) in float32, everything else in ``dtype``, as
    ``from_pretrained`` does, so a single file in bf16/fp16 computes like the diffusers folder. Those
    tensors were assigned in the file's dtype (``keep_dtype``), so the upcast is exact."""
    import torch

    keep = set(getattr(model, "_keep_in_fp32_modules", None) or ())
    for name, param in model.named_parameters():
        want = torch.float32 if keep.intersection(name.split(".")) else dtype
        if param.is_floating_point() and param.dtype != want:
            param.data = param.data.to(want)


def _load_vae(source: Path, variant: str, dtype, device="cpu"):
    """A Wan VAE from a folder (``vae/`` of a diffusers download) or a single file, checked to be of
    the generation the transformer needs (2.2 for TI2V-5B, 2.1 for A14B)."""
    from diffusers import AutoencoderKLWan

    need = VAE_GENERATION[variant]
    if source.is_dir():
        folder = source / "vae" if (source / "vae" / "config.json").exists() else source
        if not (folder / "config.json").exists():
            raise ModelNotFoundError(f"{source} has no vae/config.json; get vae/ from {HF_REPOS[variant]}.")
        cfg = json.loads((folder / "config.json").read_text())
        gen = "2.2" if cfg.get("z_dim") == 48 else "2.1"
        _check_generation(gen, need, variant, folder)
        return AutoencoderKLWan.from_pretrained(str(folder), torch_dtype=dtype).to(device).eval()
    from accelerate import init_empty_weights

    raw = checkpoints.read_shapes(source)
    rename = wan_keys.vae_key_map(raw) if wan_keys.is_original_vae(raw) else (lambda k: k)
    shapes = {rename(k): v for k, v in raw.items()}
    try:
        cfg = vae_config_from_shapes(shapes)
    except CheckpointError as e:
        raise CheckpointError(f"{source.name} is {e}. Choose {COMFY_FILES[variant][1]} (models/vae/).") from None
    _check_generation(vae_generation(shapes), need, variant, source)
    with init_empty_weights():
        vae = AutoencoderKLWan.from_config(cfg)
    missing, unexpected = checkpoints.assign_tensors(
        vae, ((rename(k), t) for k, t in checkpoints.iter_tensors(source)), dtype=dtype, device=device)
    if missing or unexpected:
        raise CheckpointError(f"{source.name} does not match a Wan {need} VAE: missing {', '.join(missing[:6]) or 'none'};"
                              f" unexpected {', '.join(unexpected[:6]) or 'none'}")
    return vae.eval()


def _check_generation(gen: str, need: str, variant: str, where: Path) -> None:
    if gen != need:
        raise CheckpointError(
            f"{where.name} is a Wan {gen} VAE ({48 if gen == '2.2' else 16} latent channels), but "
            f"{NAMES[variant]} needs the Wan {need} VAE ({COMFY_FILES[variant][1]}, or vae/ of {HF_REPOS[variant]}). "
            "Wan 2.2 TI2V-5B uses wan2.2_vae.safetensors; Wan 2.2 I2V-A14B uses wan_2.1_vae.safetensors.")


# --------------------------------------------------------------------------- what will load
@dataclass(frozen=True)
class WanFiles:
    """Every file a Wan load reads, resolved and checked from configs / headers only."""

    path: Path  # the folder or the (high-noise) transformer file
    folder: Path | None
    variant: str
    second: Path | None  # A14B low-noise expert (folder: its transformer_2/)
    vae: Path
    text_encoder: Path
    defaults: dict
    scheduler_config: dict


def _vae_generation_of(source: Path) -> str:
    if source.is_dir():
        folder = source / "vae" if (source / "vae").is_dir() else source
        cfg_path = folder / "config.json"
        if not cfg_path.exists():
            raise ModelNotFoundError(f"{source.name} has no vae/config.json; download vae/ of the Wan repository.")
        return "2.2" if json.loads(cfg_path.read_text()).get("z_dim") == 48 else "2.1"
    raw = checkpoints.read_shapes(source)
    rename = wan_keys.vae_key_map(raw) if wan_keys.is_original_vae(raw) else (lambda k: k)
    try:
        return vae_generation({rename(k): v for k, v in raw.items()})
    except CheckpointError as e:
        raise CheckpointError(f"{source.name} is {e}. Choose wan2.2_vae.safetensors or wan_2.1_vae.safetensors "
                              "(models/vae/).") from None


def plan_files(model: str | os.PathLike, model_2: str | os.PathLike | None = None, vae: str | os.PathLike | None = None,
               text_encoder: str | os.PathLike | None = None) -> WanFiles:
    """Resolve and check what :func:`load_wan` will read: the variant (from shapes), both A14B
    experts, the VAE generation, the text encoder; raises the user-facing errors before any weight
    is read."""
    path = resolve_model(model)
    folder = path if path.is_dir() else None
    second: Path | None = None
    extras: dict = {}
    sched_cfg = None
    if folder is not None:
        if not _is_wan_folder(folder):
            raise CheckpointError(f"{folder.name} is not a Wan diffusers folder (its model_index.json names another pipeline).")
        cfg_path = folder / "transformer" / "config.json"
        if not cfg_path.exists():
            raise ModelNotFoundError(f"The Wan folder {folder.name} has no transformer/config.json; download transformer/ "
                                     f"from {HF_REPOS['ti2v-5b']} or {HF_REPOS['i2v-a14b']}.")
        variant = variant_of_config(json.loads(cfg_path.read_text()), folder.name)
        if variant == "i2v-a14b":
            second = folder / "transformer_2"
            if not (second / "config.json").exists():
                raise ModelNotFoundError(
                    f"{folder.name} holds only one of the two Wan 2.2 I2V-A14B experts: transformer/ (high noise) is "
                    f"there, transformer_2/ (low noise) is missing. Download transformer_2/ from {HF_REPOS['i2v-a14b']}.")
        index = json.loads((folder / "model_index.json").read_text())
        extras = {k: index[k] for k in ("boundary_ratio", "expand_timesteps") if index.get(k) is not None}
        sched = folder / "scheduler" / "scheduler_config.json"
        sched_cfg = json.loads(sched.read_text()) if sched.exists() else None
    else:
        shapes, _ = _file_shapes(path)
        variant, cfg = transformer_config_from_shapes(shapes, path.name)
        second = _part(_FILE_KIND, model_2, "low-noise expert", COMFY_REPO)
        if variant == "i2v-a14b":
            if second is None:
                raise ModelNotFoundError(
                    f"{path.name} is one expert of Wan 2.2 I2V-A14B, which needs both: the high-noise expert as "
                    "model and the low-noise expert as model_2 (wan2.2_i2v_high_noise_14B_fp16.safetensors and "
                    f"wan2.2_i2v_low_noise_14B_fp16.safetensors, or the _fp8_scaled pair, from {COMFY_REPO}).")
            v2, cfg2 = transformer_config_from_shapes(_file_shapes(second)[0], second.name)
            if v2 != variant or cfg2 != cfg:
                raise CheckpointError(f"{second.name} is not the other expert of {path.name} (it is a {NAMES[v2]} "
                                      "transformer of another shape).")
        elif second is not None:
            log.warning("%s is %s (one transformer): model_2 %s ignored", path.name, NAMES[variant], second.name)
            second = None
    repo = HF_REPOS[variant]
    vae_src = _part("vae", vae, "Wan VAE", f"{COMFY_REPO} ({COMFY_FILES[variant][1]})") or folder
    te_src = _part("text_encoders", text_encoder, "umT5 text encoder", COMFY_REPO + " (umt5_xxl_fp16.safetensors)") or folder
    if vae_src is None or te_src is None:
        what = "VAE" if vae_src is None else "text encoder"
        raise MotionComicError(
            f"A single-file Wan transformer needs a {what}: choose "
            + (f"{COMFY_FILES[variant][1]} (models/vae/)" if vae_src is None else "umt5_xxl_fp16.safetensors (models/text_encoders/)")
            + f", or load the diffusers folder of {repo} instead.")
    _check_generation(_vae_generation_of(vae_src), VAE_GENERATION[variant], variant, vae_src)
    defaults = dict(DEFAULTS[variant], **extras)
    return WanFiles(path, folder, variant, second, vae_src, te_src, defaults,
                    sched_cfg or dict(SCHEDULER_CONFIG, flow_shift=defaults["flow_shift"]))


@functools.lru_cache(maxsize=32)
def rules_from_files(path: str, mtime: float) -> tuple[str, dict]:
    """(variant, VideoModel rules) of a Wan folder or transformer file from configs / tensor headers
    only (the letterbox preview; ``mtime`` keys the cache)."""
    p = Path(path)
    if p.is_dir():
        variant = variant_of_config(json.loads((p / "transformer" / "config.json").read_text()), p.name)
    else:
        variant, _ = transformer_config_from_shapes(_file_shapes(p)[0], p.name)
    return variant, rules_for(variant, 16 if VAE_GENERATION[variant] == "2.2" else 8, 2)


# --------------------------------------------------------------------------- entry
def _load_folder_transformer(folder: Path, dtype):
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel.from_pretrained(str(folder), torch_dtype=dtype).eval()


def load_wan(model: str | os.PathLike, model_2: str | os.PathLike | None = None, vae: str | os.PathLike | None = None,
             text_encoder: str | os.PathLike | None = None, *,
             dtype: Any = "auto", device: Any = None, offload: str = "none", tokenizer_dir: str | None = None):
    """Load a Wan 2.2 I2V model into a ``VideoModel``.

    ``model``: a diffusers folder name (models/diffusers/) or a transformer file
    (models/diffusion_models/; for A14B the high-noise expert). ``model_2``: the A14B low-noise
    expert file (single files only). ``vae`` / ``text_encoder``: None or ``"(from model folder)"``
    for the folder's parts, else a name under models/vae/ / models/text_encoders/. ``dtype``
    auto/bf16/fp16/fp32; ``offload`` none/model/sequential.
    """
    import torch

    from .video_model import VideoModel

    device = torch.device(device) if device is not None else host.torch_device()
    f = plan_files(model, model_2, vae, text_encoder)
    dt = torch_dtype(dtype, f.variant, device)
    if f.folder is not None:
        experts = [_load_folder_transformer(f.folder / "transformer", dt)]
        if f.second is not None:
            experts.append(_load_folder_transformer(f.second, dt))
    else:
        experts = [_load_transformer_file(f.path, lambda v: dt)[1]]
        if f.second is not None:
            experts.append(_load_transformer_file(f.second, lambda v: dt)[1])
    vae_model = _load_vae(f.vae, f.variant, dt)
    enc, tok = load_umt5_encoder(f.text_encoder, dt, "cpu", tokenizer_dir=tokenizer_dir)
    components = dict(transformer=experts[0], transformer_2=experts[1] if len(experts) > 1 else None,
                      vae=vae_model, text_encoder=enc, tokenizer=tok, scheduler_config=f.scheduler_config,
                      defaults=f.defaults)
    apply_offload(components, offload, device, [k for k in ("transformer", "transformer_2", "vae", "text_encoder")
                                                 if components[k] is not None])
    rules = rules_for(f.variant, int(vae_model.config.scale_factor_spatial), int(experts[0].config.patch_size[1]))
    name = f.path.name if f.folder is not None else f.path.stem
    log.info("loaded %s from %s (%s, %s, offload %s)", NAMES[f.variant], f.path, dt, device, offload)
    return VideoModel(family="wan", variant=f.variant, components=components, dtype=dt, device=device, offload=offload,
                      name=name, info={"path": str(f.path), "vae": str(f.vae), "text_encoder": str(f.text_encoder)},
                      **rules)
