"""Progress bars and cancel: ComfyUI's bar and interrupt inside ComfyUI, a console bar and a
process-wide cancel flag (``request_cancel``, set by the CLI's Ctrl-C handler) standalone."""
from __future__ import annotations

import os
import sys
import threading
import time

from ..errors import Cancelled
from .presence import in_comfyui

_cancel = threading.Event()


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


def preview_settings() -> tuple[str, int]:
    """``(method, max_size)`` for live previews while sampling: ComfyUI's ``--preview-method``
    (``none``, its default, ``auto``, ``latent2rgb``, ``taesd``) and ``--preview-size`` inside ComfyUI;
    ``("none", 0)`` standalone, so headless runs spend nothing on previews."""
    if not in_comfyui():
        return "none", 0
    try:
        from comfy.cli_args import args

        method = getattr(args.preview_method, "value", args.preview_method)
        return str(method or "none"), int(getattr(args, "preview_size", 512) or 512)
    except Exception:  # an unexpected ComfyUI layout: no previews rather than a failure
        return "none", 0


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
