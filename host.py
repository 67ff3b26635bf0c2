"""The only module that touches ComfyUI internals.

Inside ComfyUI it wraps ``folder_paths`` (model folders, input/output folders),
``comfy.model_management`` (device, memory, interrupt) and ``comfy.utils.ProgressBar``.
Standalone (tests, ``python -m motioncomic``) it uses a models directory
(``set_models_dir`` or ``$MOTIONCOMIC_MODELS_DIR``, default ``./models``), a console
progress bar and a process-wide cancel flag (``request_cancel``).

Everything is imported lazily so that importing the pack stays cheap.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Iterable

from .errors import Cancelled, ModelNotFoundError

log = logging.getLogger(__name__)

#: Model folder kinds we use, with the sub-folder name under ``models/`` and what lives there.
MODEL_FOLDERS: dict[str, str] = {
    "CogVideo": "CogVideoX diffusers folders (one sub-folder per model)",
    "diffusers": "diffusers-format model folders",
    "diffusion_models": "single-file transformer / ST-DiT checkpoints",
    "vae": "single-file VAE checkpoints",
    "text_encoders": "T5-XXL single files (t5xxl_fp16.safetensors, ...) or folders",
    "opensora": "Open-Sora ST-DiT checkpoints, VAE and T5 folders",
    "vfi": "frame interpolation weights (SGM-VFI .pkl, gmflow .pth)",
    "insightface": "face swapper / recogniser / detector ONNX files",
    "facerestore_models": "face enhancer ONNX files (GFPGAN, CodeFormer, GPEN, RestoreFormer)",
    "facedetection": "face detectors (ONNX, OpenCV cascade .xml)",
    "LLM": "local causal language models (transformers folders)",
}

_models_dir: Path | None = None
_cancel = threading.Event()


# --------------------------------------------------------------------------- ComfyUI presence
_in_comfyui: bool | None = None


def in_comfyui() -> bool:
    """True when running inside a ComfyUI process (its ``folder_paths`` is importable).

    Asked at every progress step, so the answer is remembered: ComfyUI's modules are imported
    before any custom node, and a failed import attempt per step would cost a path search.
    """
    global _in_comfyui
    if "folder_paths" in sys.modules and "comfy" in sys.modules:
        return True
    if _in_comfyui is None:
        try:
            import comfy.model_management  # noqa: F401
            import folder_paths  # noqa: F401
        except Exception:
            _in_comfyui = False
        else:
            _in_comfyui = True
    return _in_comfyui


def register_model_folders() -> None:
    """Register our model folders with ComfyUI (``models/<kind>/``), keeping existing ones."""
    import folder_paths

    for kind in MODEL_FOLDERS:
        path = os.path.join(folder_paths.models_dir, kind)
        known = folder_paths.folder_names_and_paths.get(kind)
        if known is None or path not in known[0]:
            folder_paths.add_model_folder_path(kind, path)


# --------------------------------------------------------------------------- model folders
def set_models_dir(path: str | os.PathLike | None) -> None:
    """Standalone: use ``path`` as the ``models/`` directory (None = default)."""
    global _models_dir
    _models_dir = Path(path) if path is not None else None


def models_dir() -> Path:
    if in_comfyui():
        import folder_paths

        return Path(folder_paths.models_dir)
    if _models_dir is not None:
        return _models_dir
    return Path(os.environ.get("MOTIONCOMIC_MODELS_DIR", "models"))


def search_paths(kind: str) -> list[Path]:
    """Directories searched for models of ``kind`` (ComfyUI's list, incl. extra_model_paths)."""
    if in_comfyui():
        import folder_paths

        try:
            return [Path(p) for p in folder_paths.get_folder_paths(kind)]
        except KeyError:
            return [Path(folder_paths.models_dir) / kind]
    return [models_dir() / kind]


def list_files(kind: str, extensions: Iterable[str] | None = None) -> list[str]:
    """Relative paths of files under the ``kind`` folders (recursive), optionally by extension."""
    exts = {e.lower() for e in extensions} if extensions else None
    found: set[str] = set()
    for root in search_paths(kind):
        if not root.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(root, followlinks=True):
            for f in files:
                if exts is None or os.path.splitext(f)[1].lower() in exts:
                    found.add(os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/"))
    return sorted(found)


def list_dirs(kind: str, marker: str | None = None) -> list[str]:
    """Sub-folders of the ``kind`` folders (optionally only those containing ``marker``)."""
    found: set[str] = set()
    for root in search_paths(kind):
        if not root.is_dir():
            continue
        for d in sorted(root.iterdir()):
            if d.is_dir() and (marker is None or (d / marker).exists()):
                found.add(d.name)
    return sorted(found)


def find_model(kind: str, name: str, hint: str = "") -> Path:
    """Resolve ``name`` (absolute path, or relative to a ``kind`` folder) to an existing path.

    Raises :class:`ModelNotFoundError` naming every place we looked and ``hint`` (where to get it).
    """
    p = Path(name).expanduser()
    if p.is_absolute() and p.exists():
        return p
    tried = []
    for root in search_paths(kind):
        cand = root / name
        tried.append(str(cand))
        if cand.exists():
            return cand
    if p.exists():
        return p.resolve()
    msg = f"{name!r} not found. Looked in: {', '.join(tried) or '(no folders for ' + kind + ')'}."
    if hint:
        msg += " " + hint
    raise ModelNotFoundError(msg)


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


# --------------------------------------------------------------------------- device and memory
def torch_device():
    """The compute device: ComfyUI's choice inside ComfyUI, else CUDA > MPS > CPU."""
    import torch

    if in_comfyui():
        import comfy.model_management as mm

        return mm.get_torch_device()
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def offload_device():
    """Where weights wait while not in use (CPU)."""
    import torch

    if in_comfyui():
        import comfy.model_management as mm

        return mm.unet_offload_device()
    return torch.device("cpu")


def free_memory(bytes_needed: int, device=None) -> None:
    """Ask ComfyUI to unload its own models until ``bytes_needed`` are free on ``device``."""
    if in_comfyui():
        import comfy.model_management as mm

        mm.free_memory(bytes_needed, device or mm.get_torch_device())


def soft_empty_cache() -> None:
    """Return cached accelerator memory to the driver."""
    import gc

    gc.collect()
    if in_comfyui():
        import comfy.model_management as mm

        mm.soft_empty_cache()
        return
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def is_oom(exc: BaseException) -> bool:
    """True for an out-of-memory error from any backend."""
    import torch

    if isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, (RuntimeError, MemoryError)) and (
        isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()
    )


# --------------------------------------------------------------------------- cancel
def request_cancel() -> None:
    """Standalone: ask the running job to stop at its next check."""
    _cancel.set()


def clear_cancel() -> None:
    _cancel.clear()


def check_cancel() -> None:
    """Raise if the user cancelled (ComfyUI's interrupt, or ``request_cancel``)."""
    if in_comfyui():
        import comfy.model_management as mm

        mm.throw_exception_if_processing_interrupted()
    if _cancel.is_set():
        _cancel.clear()
        raise Cancelled("cancelled by the user")


def cancel_exceptions() -> tuple[type[BaseException], ...]:
    """Exception types that mean "cancelled" here (for cleanup code)."""
    types: list[type[BaseException]] = [Cancelled]
    if in_comfyui():
        import comfy.model_management as mm

        types.append(mm.InterruptProcessingException)
    return tuple(types)


# --------------------------------------------------------------------------- progress
class Progress:
    """Progress of one long loop: ComfyUI's bar in the UI, else a console bar on stderr.

    ``step()`` also checks for cancel, so a loop that reports progress honours cancel for free.
    """

    def __init__(self, total: int, desc: str = "", quiet: bool | None = None):
        self.total = max(int(total), 1)
        self.desc = desc
        self.n = 0
        self._t0 = time.monotonic()
        self._comfy = None
        if in_comfyui():
            import comfy.utils

            self._comfy = comfy.utils.ProgressBar(self.total)
        if quiet is None:
            quiet = not (sys.stderr.isatty() or os.environ.get("MOTIONCOMIC_PROGRESS") == "1")
        self._quiet = quiet

    def step(self, n: int = 1, preview=None) -> None:
        self.update_absolute(self.n + n, preview)

    def update_absolute(self, value: int, preview=None) -> None:
        self.n = min(int(value), self.total)
        if self._comfy is not None:
            self._comfy.update_absolute(self.n, self.total, preview)
        elif not self._quiet:
            width = 30
            done = int(width * self.n / self.total)
            secs = time.monotonic() - self._t0
            sys.stderr.write(
                f"\r{self.desc} [{'#' * done}{'.' * (width - done)}] {self.n}/{self.total} {secs:5.1f}s"
            )
            if self.n >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        check_cancel()


# --------------------------------------------------------------------------- saving outputs
def save_path(prefix: str, width: int = 0, height: int = 0, temp: bool = False) -> tuple[Path, str, int, str]:
    """Where to save the next output named by ``prefix`` (may contain a sub-folder: ``clips/run``).

    Returns ``(folder, stem, counter, subfolder)``; the file is ``f"{stem}_{counter:05}_.{ext}"``
    (ComfyUI's naming, ``folder_paths.get_save_image_path`` inside ComfyUI). Raises
    :class:`MotionComicError` when the prefix leaves the output folder or the folder cannot be made.
    """
    from .errors import MotionComicError

    base = temp_dir() if temp else output_dir()
    if in_comfyui():
        import folder_paths

        try:
            folder, stem, counter, subfolder, _ = folder_paths.get_save_image_path(prefix, str(base), width, height)
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise MotionComicError(f"cannot create the output folder under {base}: {exc}. "
                                   "Check permissions or start ComfyUI with --output-directory.") from exc
        except Exception as exc:  # ComfyUI raises a bare Exception for prefixes leaving the folder
            raise MotionComicError(f"invalid filename_prefix {prefix!r}: {exc}") from exc
        return Path(folder), stem, int(counter), subfolder
    prefix = (prefix or "motioncomic").replace("\\", "/").strip()
    subfolder, _, stem = prefix.rpartition("/")
    folder = (base / subfolder).resolve()
    if Path(prefix).is_absolute() or not folder.is_relative_to(base.resolve()) or not stem:
        raise MotionComicError(f"invalid filename_prefix {prefix!r}: it must name a file inside {base}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MotionComicError(f"cannot create the output folder {folder}: {exc.strerror or exc}. "
                               "Set MOTIONCOMIC_OUTPUT_DIR / -o to a writable folder.") from exc
    counter = 0
    for name in os.listdir(folder):
        rest = name[len(stem) + 1:]
        if name.startswith(stem + "_") and rest[:5].isdigit():
            counter = max(counter, int(rest[:5]))
    return folder, stem, counter + 1, subfolder


def metadata_disabled() -> bool:
    """True when ComfyUI runs with ``--disable-metadata`` (then no prompt/workflow is embedded)."""
    if in_comfyui():
        try:
            from comfy.cli_args import args

            return bool(args.disable_metadata)
        except Exception:
            return False
    return os.environ.get("MOTIONCOMIC_DISABLE_METADATA") == "1"


# --------------------------------------------------------------------------- server routes
def register_get_route(path: str, handler) -> None:
    """Serve ``handler(query: dict[str, str]) -> dict`` as JSON at ``GET path`` on ComfyUI's server.

    User errors (:class:`MotionComicError`) become HTTP 400 with ``{"error": message}``.
    """
    from aiohttp import web
    from server import PromptServer

    from .errors import MotionComicError

    async def _route(request):
        try:
            return web.json_response(handler(dict(request.rel_url.query)))
        except MotionComicError as e:
            return web.json_response({"error": str(e)}, status=400)

    PromptServer.instance.routes.get(path)(_route)
