"""motioncomic: one character image + a short prompt -> a short, identity-faithful animated clip.

ComfyUI imports this file. It must stay light: node modules import torch/diffusers only when a
node runs. Relative imports only (ComfyUI has its own top-level ``nodes`` module).

Registration: a ComfyUI with the current node schema (``comfy_api.latest``, 0.3.48 and later) gets
``comfy_entrypoint`` and ``io.ComfyNode`` classes. ComfyUI reads ``NODE_CLASS_MAPPINGS`` first and
then ignores ``comfy_entrypoint``, so that name is exported only where the schema is missing (older
ComfyUI, ``MOTIONCOMIC_NODE_API=legacy``, or no ComfyUI: tests, the CLI).
"""
from . import nodes as _nodes
from .nodes._schema import schema_api as _schema_api
from .version import __version__

WEB_DIRECTORY = "./web"
_API = _schema_api()

if _API is not None:
    _io, _ComfyExtension = _API

    class MotionComicExtension(_ComfyExtension):
        async def get_node_list(self) -> list:
            return _nodes.schema_nodes(_io)

    async def comfy_entrypoint() -> "MotionComicExtension":
        return MotionComicExtension()

    __all__ = ["comfy_entrypoint", "WEB_DIRECTORY", "__version__"]
else:
    NODE_CLASS_MAPPINGS = _nodes.NODE_CLASS_MAPPINGS
    NODE_DISPLAY_NAME_MAPPINGS = _nodes.NODE_DISPLAY_NAME_MAPPINGS
    __all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY", "__version__"]

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
