"""motioncomic: one character image + a short prompt -> a short, identity-faithful animated clip.

ComfyUI imports this file. It must stay light: node modules import torch/diffusers only when a
node runs. Relative imports only (ComfyUI has its own top-level ``nodes`` module).
"""
from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS
from .version import __version__

WEB_DIRECTORY = "./web"

try:  # inside ComfyUI: make our model folders known to folder_paths
    from . import host as _host

    def _plan(query: dict) -> dict:  # GET /motioncomic/plan: the web overlay's letterbox preview
        from .samplers.plan_preview import plan_for_query

        return plan_for_query(query)

    if _host.in_comfyui():
        from pathlib import Path as _Path

        from .loaders.mimicmotion import register_wrapper_folder

        register_wrapper_folder(_Path(__file__).resolve().parent.parent)  # its PoseNet file, if installed
        _host.register_model_folders()
        _host.register_get_route("/motioncomic/plan", _plan)
        # what of ours ComfyUI's model management holds, and whether it is loaded now
        _host.register_get_route("/motioncomic/memory", lambda _query: {"models": _host.managed_status()})
except Exception:  # pragma: no cover - registration must never break ComfyUI's startup
    import logging

    logging.getLogger(__name__).exception("motioncomic: could not register model folders or routes")

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY", "__version__"]
