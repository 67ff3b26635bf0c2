"""Is this process a ComfyUI server? (asked everywhere, answered once)."""
from __future__ import annotations

import sys

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


def forget() -> None:
    """Ask again next time (tests that install or remove a ComfyUI stand-in)."""
    global _in_comfyui
    _in_comfyui = None
