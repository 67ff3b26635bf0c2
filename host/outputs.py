"""Where outputs are saved (ComfyUI's naming and folders) and whether metadata may be embedded."""
from __future__ import annotations

import os
from pathlib import Path

from .folders import output_dir, temp_dir
from .presence import in_comfyui


def save_path(prefix: str, width: int = 0, height: int = 0, temp: bool = False) -> tuple[Path, str, int, str]:
    """Where to save the next output named by ``prefix`` (may contain a sub-folder: ``clips/run``).

    Returns ``(folder, stem, counter, subfolder)``; the file is ``f"{stem}_{counter:05}_.{ext}"``
    (ComfyUI's naming, ``folder_paths.get_save_image_path`` inside ComfyUI). Raises
    :class:`MotionComicError` when the prefix leaves the output folder or the folder cannot be made.
    """
    from ..errors import MotionComicError

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


def check_output_prefix(prefix: str) -> Path:
    """Check, before any model loads, that outputs named ``prefix`` can be written: the folder is
    created (as saving would) and must be writable. Returns it; raises :class:`MotionComicError`."""
    from ..errors import MotionComicError

    folder = save_path(prefix)[0]
    if not os.access(folder, os.W_OK):
        raise MotionComicError(f"the output folder {folder} is not writable. Fix its permissions or "
                               "choose another filename_prefix / output folder.")
    return folder


def relative_to_output(path: str | os.PathLike) -> str:
    """``path`` relative to the output folder (what an API client may see), ``/``-separated."""
    p = Path(path).resolve()
    for base in (output_dir(), temp_dir()):
        try:
            return p.relative_to(Path(base).resolve()).as_posix()
        except ValueError:
            continue
    return p.name


def metadata_disabled() -> bool:
    """True when ComfyUI runs with ``--disable-metadata`` (then no prompt/workflow is embedded)."""
    if in_comfyui():
        try:
            from comfy.cli_args import args

            return bool(args.disable_metadata)
        except Exception:
            return False
    return os.environ.get("MOTIONCOMIC_DISABLE_METADATA") == "1"
