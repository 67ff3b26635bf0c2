"""Model folders and the ONE resolver: a model name means a file or folder inside them, nothing else.

Inside ComfyUI the folders are ``folder_paths``' (``models/<kind>/`` plus ``extra_model_paths.yaml``)
and file lists come from its cached ``get_filename_list``. Standalone they are ``<models dir>/<kind>/``
(``set_models_dir``, ``$MOTIONCOMIC_MODELS_DIR``, default ``./models``) with the same kind of cache:
a listing is reused until the modification time of a folder in it changes.

A name from a node, a route, a workflow or the batch client is *relative*: ``..`` segments,
absolute paths and drive letters are refused before the disk is touched. Only the command line,
where the user typed the path, passes ``allow_absolute=True``. Symbolic links inside a model folder
are followed (users link models from other disks); they were put there by the server's owner.
"""
from __future__ import annotations

import difflib
import os
import posixpath
import threading
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import ModelNotFoundError
from .presence import in_comfyui

#: Model folder kinds we use, with the sub-folder name under ``models/`` and what lives there.
MODEL_FOLDERS: dict[str, str] = {
    "CogVideo": "CogVideoX diffusers folders (one sub-folder per model)",
    "diffusers": "diffusers-format model folders",
    "diffusion_models": "single-file transformer / ST-DiT checkpoints",
    "vae": "single-file VAE checkpoints",
    "text_encoders": "T5-XXL / umT5-XXL single files (t5xxl_fp16.safetensors, ...) or folders",
    "opensora": "Open-Sora ST-DiT checkpoints, VAE and T5 folders",
    "vfi": "frame interpolation weights (RIFE flownet.pkl / rife4x.pth, SGM-VFI .pkl, gmflow .pth)",
    "insightface": "face swapper / recogniser / detector ONNX files",
    "facerestore_models": "face enhancer ONNX files (GFPGAN, CodeFormer, GPEN, RestoreFormer)",
    "facedetection": "face detectors (ONNX, OpenCV cascade .xml)",
    "LLM": "local causal language models (transformers folders)",
    "mimicmotion": "MimicMotion UNet + PoseNet files (MimicMotion_1-1.pth, MimicMotionMergedUnet_*.safetensors)",
    "loras": "LoRA files (CogVideoX LoRAs; also models/CogVideo/loras/)",
    "dwpose": "DWPose ONNX files (yolox_l.onnx, dw-ll_ucoco_384.onnx)",
}
#: Folders other packs keep files of our kinds in, relative to a ComfyUI ``custom_nodes`` folder
#: (searched after ``models/<kind>/`` when they exist; never taken from a workflow).
PACK_FOLDERS: dict[str, tuple[str, ...]] = {
    # comfyui_controlnet_aux downloads yzd-v/DWPose into <pack>/ckpts/<repo id>/
    "dwpose": ("comfyui_controlnet_aux/ckpts/yzd-v/DWPose",),
}
#: Environment variables naming another pack's download root (set by that pack or the owner),
#: with the sub-folder our files sit in.
PACK_FOLDER_ENV: dict[str, tuple[tuple[str, str], ...]] = {
    "dwpose": (("AUX_ANNOTATOR_CKPTS_PATH", "yzd-v/DWPose"),),
}
#: Where the files of well-known model names come from (lower-case name -> source), for messages.
KNOWN_SOURCES: dict[str, str] = {
    "cogvideox-5b-i2v": "huggingface.co/THUDM/CogVideoX-5b-I2V",
    "cogvideox1.5-5b-i2v": "huggingface.co/THUDM/CogVideoX1.5-5B-I2V",
    "cogvideox-5b": "huggingface.co/THUDM/CogVideoX-5b",
    "cogvideox-2b": "huggingface.co/THUDM/CogVideoX-2b",
    "cogvideox1.5-5b": "huggingface.co/THUDM/CogVideoX1.5-5B",
    "opensora-stdit-v3": "huggingface.co/hpcai-tech/OpenSora-STDiT-v3",
    "opensora-vae-v1.2": "huggingface.co/hpcai-tech/OpenSora-VAE-v1.2",
    "t5xxl_fp16.safetensors": "huggingface.co/comfyanonymous/flux_text_encoders",
    "t5xxl_fp8_e4m3fn.safetensors": "huggingface.co/comfyanonymous/flux_text_encoders",
    "wan2.2-ti2v-5b-diffusers": "huggingface.co/Wan-AI/Wan2.2-TI2V-5B-Diffusers",
    "wan2.2-i2v-a14b-diffusers": "huggingface.co/Wan-AI/Wan2.2-I2V-A14B-Diffusers",
    "wan2.2_ti2v_5b_fp16.safetensors": "huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged (split_files/diffusion_models)",
    "wan2.2_i2v_high_noise_14b_fp16.safetensors": "huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged (split_files/diffusion_models)",
    "wan2.2_i2v_low_noise_14b_fp16.safetensors": "huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged (split_files/diffusion_models)",
    "wan2.2_i2v_high_noise_14b_fp8_scaled.safetensors": "huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged (split_files/diffusion_models)",
    "wan2.2_i2v_low_noise_14b_fp8_scaled.safetensors": "huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged (split_files/diffusion_models)",
    "wan2.2_vae.safetensors": "huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged (split_files/vae)",
    "wan_2.1_vae.safetensors": "huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged (split_files/vae)",
    "umt5_xxl_fp16.safetensors": "huggingface.co/Comfy-Org/Wan_2.1_ComfyUI_repackaged (split_files/text_encoders)",
    "umt5_xxl_fp8_e4m3fn_scaled.safetensors": "huggingface.co/Comfy-Org/Wan_2.1_ComfyUI_repackaged (split_files/text_encoders)",
    "ours-1-2-points.pkl": "github.com/MCG-NJU/SGM-VFI (release checkpoints)",
    "gmflow_sintel-0c07dcb3.pth": "github.com/haofeixu/gmflow (pretrained models)",
    "lbpcascade_animeface.xml": "github.com/nagadomi/lbpcascade_animeface (also built in)",
    "inswapper_128.onnx": "the insightface model zoo (inswapper_128.onnx)",
    "yolox_l.onnx": "huggingface.co/yzd-v/DWPose",
    "dw-ll_ucoco_384.onnx": "huggingface.co/yzd-v/DWPose",
}
DOCS_MODELS = "docs/models.md"

_models_dir: Path | None = None
_extra: dict[str, list[Path]] = {}
_lock = threading.Lock()
_file_cache: dict[tuple, tuple[list[str], dict[str, float]]] = {}


# --------------------------------------------------------------------------- folders
def set_models_dir(path: str | os.PathLike | None) -> None:
    """Standalone: use ``path`` as the ``models/`` directory (None = default)."""
    global _models_dir
    _models_dir = Path(path) if path is not None else None


def configured_models_dir() -> Path | None:
    """The standalone models directory set with :func:`set_models_dir` (None = default)."""
    return _models_dir


def models_dir() -> Path:
    if in_comfyui():
        import folder_paths

        return Path(folder_paths.models_dir)
    if _models_dir is not None:
        return _models_dir
    return Path(os.environ.get("MOTIONCOMIC_MODELS_DIR", "models"))


def register_model_folders() -> None:
    """Register our model folders with ComfyUI (``models/<kind>/``), keeping existing ones."""
    import folder_paths

    for kind in MODEL_FOLDERS:
        path = os.path.join(folder_paths.models_dir, kind)
        known = folder_paths.folder_names_and_paths.get(kind)
        if known is None or path not in known[0]:
            folder_paths.add_model_folder_path(kind, path)
    try:
        roots = folder_paths.get_folder_paths("custom_nodes")
    except Exception:  # a ComfyUI without a registered custom_nodes kind
        roots = []
    for rife in frame_interpolation_rife_dirs(roots):
        add_search_path("vfi", rife)  # that pack's rife4x.pth files, offered without a second download
    for kind, paths in _extra.items():
        for p in paths:
            folder_paths.add_model_folder_path(kind, str(p))
    try:
        custom = [Path(p) for p in folder_paths.get_folder_paths("custom_nodes")]
    except KeyError:
        custom = []
    for kind in PACK_FOLDERS:
        known = folder_paths.folder_names_and_paths.get(kind, ([], set()))[0]
        for extra in pack_folders(kind, custom):
            if str(extra) not in known:
                folder_paths.add_model_folder_path(kind, str(extra))


def pack_folders(kind: str, custom_nodes: Iterable[Path]) -> list[Path]:
    """Existing folders where other packs keep files of ``kind`` (see ``PACK_FOLDERS``)."""
    found: list[Path] = []
    for var, sub in PACK_FOLDER_ENV.get(kind, ()):
        root = os.environ.get(var)
        if root and (Path(root) / sub).is_dir():
            found.append(Path(root) / sub)
    for root in custom_nodes:
        for rel in PACK_FOLDERS.get(kind, ()):
            if (root / rel).is_dir() and root / rel not in found:
                found.append(root / rel)
    return found


def add_search_path(kind: str, path: str | os.PathLike) -> None:
    """An extra folder for ``kind`` chosen by the server's owner or found beside the pack (e.g. another
    pack's ``ckpts/rife``). Never call this with a path that came from a workflow."""
    p = Path(path)
    with _lock:
        if p not in _extra.setdefault(kind, []):
            _extra[kind].append(p)
    if in_comfyui():
        import folder_paths

        folder_paths.add_model_folder_path(kind, str(p))


#: The folder name of ComfyUI-Frame-Interpolation (git clone or registry install, any case).
FRAME_INTERPOLATION_PACK = "comfyui-frame-interpolation"


def frame_interpolation_rife_dirs(custom_nodes_roots: Iterable[str | os.PathLike]) -> list[Path]:
    """``<pack>/<ckpts_path>/rife`` of every installed ComfyUI-Frame-Interpolation that has one.

    ``ckpts_path`` comes from that pack's ``config.yaml`` (default ``./ckpts``); only a folder inside
    the pack is accepted. :func:`register_model_folders` adds these as ``vfi`` search paths.
    """
    import re

    found: list[Path] = []
    for root in custom_nodes_roots:
        try:
            packs = sorted(Path(root).iterdir())
        except OSError:
            continue
        for pack in packs:
            if pack.name.lower() != FRAME_INTERPOLATION_PACK or not pack.is_dir():
                continue
            ckpts = "./ckpts"
            config = pack / "config.yaml"
            if config.is_file():
                m = re.search(r"^ckpts_path:\s*[\"']?([^\"'#\n]+?)[\"']?\s*(#.*)?$", config.read_text(errors="replace"), re.M)
                if m:
                    ckpts = m.group(1).strip()
            rife = (pack / ckpts / "rife").resolve()
            if rife.is_dir() and rife.is_relative_to(pack.resolve()):
                found.append(rife)
    return found


def search_paths(kind: str) -> list[Path]:
    """Directories searched for models of ``kind`` (ComfyUI's list, incl. extra_model_paths)."""
    if in_comfyui():
        import folder_paths

        try:
            return [Path(p) for p in folder_paths.get_folder_paths(kind)]
        except KeyError:
            return [Path(folder_paths.models_dir) / kind]
    root = models_dir()
    # standalone next to a ComfyUI checkout (models/ beside custom_nodes/): other packs' folders too
    return [root / kind, *_extra.get(kind, []), *pack_folders(kind, [root.parent / "custom_nodes"])]


def _kinds(kind: str | Sequence[str]) -> list[str]:
    return [kind] if isinstance(kind, str) else list(kind)


# --------------------------------------------------------------------------- choice lists
def _walk_files(roots: Sequence[Path]) -> tuple[list[str], dict[str, float]]:
    found: set[str] = set()
    mtimes: dict[str, float] = {}
    for root in roots:
        if not root.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(root, followlinks=True):
            try:
                mtimes[dirpath] = os.stat(dirpath).st_mtime
            except OSError:
                continue
            for f in files:
                found.add(os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/"))
    return sorted(found), mtimes


def _still_valid(mtimes: dict[str, float], roots: Sequence[Path]) -> bool:
    for root in roots:  # a folder that appeared since the listing
        if root.is_dir() and str(root) not in mtimes:
            return False
    for d, t in mtimes.items():
        try:
            if os.stat(d).st_mtime != t:
                return False
        except OSError:
            return False
    return True


def _all_files(kind: str) -> list[str]:
    if in_comfyui():
        import folder_paths

        try:
            return [f.replace(os.sep, "/") for f in folder_paths.get_filename_list(kind)]
        except KeyError:
            return []
    roots = tuple(search_paths(kind))
    with _lock:
        hit = _file_cache.get(roots)
    if hit is not None and _still_valid(hit[1], roots):
        return hit[0]
    files, mtimes = _walk_files(roots)
    with _lock:
        _file_cache[roots] = (files, mtimes)
    return files


def list_files(kind: str | Sequence[str], extensions: Iterable[str] | None = None) -> list[str]:
    """Relative paths of files under the ``kind`` folders (recursive, cached), optionally by extension."""
    exts = {e.lower() for e in extensions} if extensions else None
    out: list[str] = []
    for k in _kinds(kind):
        out += [f for f in _all_files(k) if exts is None or os.path.splitext(f)[1].lower() in exts]
    return sorted(dict.fromkeys(out))


def list_input_files(extensions: Iterable[str]) -> list[str]:
    """Relative paths of the files with ``extensions`` under the input folder (recursive; cached and
    re-walked only when a folder in it changed; hidden files left out), for upload combos."""
    exts = {e.lower() for e in extensions}
    roots = (input_dir(),)
    with _lock:
        hit = _file_cache.get(("input",) + roots)
    if hit is None or not _still_valid(hit[1], roots):
        hit = _walk_files(roots)
        with _lock:
            _file_cache[("input",) + roots] = hit
    return [f for f in hit[0] if os.path.splitext(f)[1].lower() in exts and not f.rsplit("/", 1)[-1].startswith(".")]


def find_input(name: str, what: str = "file") -> Path:
    """The file ``name`` (as an upload combo lists it; ComfyUI's `` [input]`` suffix allowed) inside the
    input folder. Names that could leave it (absolute, ``..``, drive letters, NUL) and anything that
    resolves outside it are refused, as missing files are, with the folder named."""
    from ..errors import MotionComicError

    root = input_dir().resolve()
    rel = clean_name(name.removesuffix(" [input]")) if isinstance(name, str) else None
    path = (root / rel).resolve() if rel else None
    if path is None or not path.is_relative_to(root):
        raise MotionComicError(f"{what} {name!r} must be inside the input folder {root}")
    if not path.is_file():
        raise MotionComicError(f"{what} {name!r} not found in the input folder {root}. "
                               "Upload it with the node's upload button or copy it there.")
    return path


def list_dirs(kind: str | Sequence[str], marker: str | None = None) -> list[str]:
    """Sub-folders of the ``kind`` folders (optionally only those containing ``marker``)."""
    found: set[str] = set()
    for k in _kinds(kind):
        for root in search_paths(k):
            try:
                entries = list(os.scandir(root))
            except OSError:
                continue
            for d in entries:
                if d.is_dir() and (marker is None or os.path.exists(os.path.join(d.path, marker))):
                    found.add(d.name)
    return sorted(found)


# --------------------------------------------------------------------------- the resolver
def clean_name(name: str) -> str | None:
    """``name`` as a relative path inside a model folder, or None when it could leave it
    (absolute, drive letter, ``..``, NUL, empty)."""
    if not isinstance(name, str):
        return None
    n = name.strip().replace("\\", "/")
    if not n or "\0" in n or n.startswith("/") or (len(n) > 1 and n[1] == ":") or n.startswith("~"):
        return None
    n = posixpath.normpath(n)
    if n == "." or n == ".." or n.startswith("../"):
        return None
    return n


def _where(kind: str, root: Path) -> str:
    return f"models/{kind} ({root})"


def not_found_message(kinds: Sequence[str], name: str, what: str, hint: str, choices: Sequence[str]) -> str:
    places = list(dict.fromkeys(_where(k, r) for k in kinds for r in search_paths(k)))
    msg = f"{what} {name!r} not found in {', '.join(places) or 'any model folder'}."
    lower = {c.lower(): c for c in choices}
    close = [lower[name.lower()]] if name.lower() in lower else []
    close += [c for c in difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6) if c not in close]
    if close:
        msg += " Did you mean " + " or ".join(repr(c) for c in close) + "?"
    if choices:
        shown = list(choices)[:12]
        msg += " Available: " + ", ".join(shown) + (f" (+{len(choices) - 12} more)" if len(choices) > 12 else "") + "."
    else:
        msg += f" No {what} is installed yet."
    source = KNOWN_SOURCES.get(Path(name).name.lower())
    if source:
        msg += f" {Path(name).name} comes from {source}."
    if hint:
        msg += " " + hint
    return msg + f" The files and their sources are listed in {DOCS_MODELS}."


def find_model(kind: str | Sequence[str], name: str, hint: str = "", *, allow_absolute: bool = False,
               what: str = "model") -> Path:
    """Resolve ``name`` to an existing file or folder inside the ``kind`` folder(s) (first match wins).

    A ``str`` is a *name* (from a node, route, workflow or job file) and stays inside the folders. A
    ``pathlib.Path`` is a path the calling code built itself (the command line from what the user
    typed, a test, a Python user) and is taken as it is; so is an absolute ``str`` with
    ``allow_absolute=True``. Raises :class:`ModelNotFoundError` naming each folder once, close
    names, what is installed and ``hint``.
    """
    kinds = _kinds(kind)
    raw = os.fspath(name) if isinstance(name, os.PathLike) else name
    if isinstance(name, os.PathLike):
        p = Path(raw).expanduser()
        if p.exists():
            return p
        if p.is_absolute():
            raise ModelNotFoundError(f"{what} {raw!r} does not exist. {hint}".strip())
    if allow_absolute and isinstance(raw, str) and raw.strip():
        p = Path(raw.strip()).expanduser()
        if p.is_absolute():
            if p.exists():
                return p
            raise ModelNotFoundError(f"{what} {raw!r} does not exist. {hint}".strip())
    rel = clean_name(raw)
    if rel is None:
        raise ModelNotFoundError(
            f"{what} name {raw!r} is not a name inside the model folders: absolute paths and '..' are "
            f"not accepted from workflows. Put the file in models/{kinds[0]}/ and choose it by name.")
    for k in kinds:
        for root in search_paths(k):
            cand = root / rel
            if cand.exists():
                return cand
    dirs = list_dirs(kinds)
    top = set(dirs)
    choices = dirs + [f for f in list_files(kinds) if f.split("/", 1)[0] not in top]  # not a folder's own files
    raise ModelNotFoundError(not_found_message(kinds, rel, what, hint, choices))


def empty_choice(what: str, kind: str) -> str:
    """The single entry of an empty dropdown: says what is missing and where to read about it."""
    return f"(no {what} in models/{kind}/ - see {DOCS_MODELS})"


# --------------------------------------------------------------------------- input / output / temp
def output_dir() -> Path:
    if in_comfyui():
        import folder_paths

        return Path(folder_paths.get_output_directory())
    return Path(os.environ.get("MOTIONCOMIC_OUTPUT_DIR", "output"))


def input_dir() -> Path:
    if in_comfyui():
        import folder_paths

        return Path(folder_paths.get_input_directory())
    return Path(os.environ.get("MOTIONCOMIC_INPUT_DIR", "input"))


def temp_dir() -> Path:
    if in_comfyui():
        import folder_paths

        return Path(folder_paths.get_temp_directory())
    import tempfile

    return Path(tempfile.gettempdir()) / "motioncomic"
