"""A minimal stand-in for the ComfyUI modules ``host`` talks to, so the default suite covers host's
ComfyUI branch (folder registry, cached lists, progress, interrupt, routes, model management) without
a ComfyUI checkout. It keeps the same names and calling conventions as ComfyUI and the same memory
semantics where we rely on them (a ModelPatcher's unload moves its module to the offload device and
drops it from ``current_loaded_models``). The opt-in suite (tests/comfyui/) runs the real thing.
"""
from __future__ import annotations

import contextlib
import os
import sys
import types
from pathlib import Path


def _folder_paths(base: Path) -> types.ModuleType:
    fp = types.ModuleType("folder_paths")
    fp.models_dir = str(base / "models")
    fp.folder_names_and_paths = {"vae": ([str(base / "models" / "vae")], {".safetensors", ".pt"})}
    fp.listings = 0  # how often a folder was walked (ComfyUI caches get_filename_list)
    cache: dict[str, list[str]] = {}

    def add_model_folder_path(name, path, is_default=False):
        paths, exts = fp.folder_names_and_paths.setdefault(name, ([], set()))
        if path not in paths:
            paths.append(path)
        cache.pop(name, None)

    def get_folder_paths(name):
        return list(fp.folder_names_and_paths[name][0])

    def get_filename_list(name):
        if name not in cache:
            fp.listings += 1
            out = []
            for root in fp.folder_names_and_paths[name][0]:
                for d, _, files in os.walk(root, followlinks=True):
                    out += [os.path.relpath(os.path.join(d, f), root) for f in files]
            cache[name] = sorted(out)
        return cache[name]

    fp.add_model_folder_path, fp.get_folder_paths, fp.get_filename_list = (
        add_model_folder_path, get_folder_paths, get_filename_list)
    fp.get_output_directory = lambda: str(base / "output")
    fp.get_input_directory = lambda: str(base / "input")
    fp.get_temp_directory = lambda: str(base / "temp")

    def get_save_image_path(prefix, output_dir, w=0, h=0):
        full = os.path.join(output_dir, os.path.dirname(prefix))
        if os.path.commonpath((output_dir, os.path.abspath(full))) != output_dir:
            raise Exception("Saving image outside the output folder is not allowed.")
        return full, os.path.basename(prefix), 1, os.path.dirname(prefix), prefix

    fp.get_save_image_path = get_save_image_path
    return fp


def _model_management(torch) -> types.ModuleType:
    mm = types.ModuleType("comfy.model_management")
    mm.current_loaded_models = []
    mm.interrupted = False
    mm.freed = []

    class InterruptProcessingException(Exception):
        pass

    class LoadedModel:
        def __init__(self, model):
            self.model = model

        def model_unload(self, memory_to_free=None, unpatch_weights=True):
            self.model.detach(unpatch_weights)
            return True

    def load_models_gpu(models, memory_required=0, force_patch_weights=False, minimum_memory_required=None,
                        force_full_load=False):
        for m in models:
            if not any(lm.model is m for lm in mm.current_loaded_models):
                m.model.to(m.load_device)
                mm.current_loaded_models.insert(0, LoadedModel(m))

    def free_memory(memory_required, device, keep_loaded=[]):
        mm.freed.append(memory_required)
        for lm in list(mm.current_loaded_models):
            if lm.model not in keep_loaded:
                lm.model_unload()
                mm.current_loaded_models.remove(lm)

    def throw_exception_if_processing_interrupted():
        if mm.interrupted:
            mm.interrupted = False
            raise InterruptProcessingException()

    mm.InterruptProcessingException, mm.LoadedModel = InterruptProcessingException, LoadedModel
    mm.load_models_gpu, mm.free_memory, mm.unload_all_models = load_models_gpu, free_memory, lambda: free_memory(1e30, None)
    mm.throw_exception_if_processing_interrupted = throw_exception_if_processing_interrupted
    mm.get_torch_device = lambda: torch.device("cpu")
    mm.unet_offload_device = lambda: torch.device("cpu")
    mm.soft_empty_cache = lambda force=False: None
    return mm


def _model_patcher() -> types.ModuleType:
    mp = types.ModuleType("comfy.model_patcher")

    class ModelPatcher:
        def __init__(self, model, load_device, offload_device, size=0, weight_inplace_update=False):
            self.model, self.load_device, self.offload_device, self.size = model, load_device, offload_device, size
            self.detached = 0

        def model_size(self):
            return sum(t.numel() * t.element_size() for t in self.model.state_dict().values())

        def detach(self, unpatch_all=True):
            self.detached += 1
            self.model.to(self.offload_device)
            return self.model

    mp.ModelPatcher = ModelPatcher
    return mp


def _utils() -> types.ModuleType:
    cu = types.ModuleType("comfy.utils")

    class ProgressBar:
        updates: list = []

        def __init__(self, total):
            self.total = total

        def update_absolute(self, value, total=None, preview=None):
            ProgressBar.updates.append((value, total, preview))

    cu.ProgressBar = ProgressBar
    return cu


def _server() -> types.ModuleType:
    srv = types.ModuleType("server")

    class Routes:
        def __init__(self):
            self.handlers = {}

        def get(self, path):
            def register(fn):
                self.handlers[path] = fn
                return fn
            return register

    class PromptServer:
        instance = None

    PromptServer.instance = PromptServer()
    PromptServer.instance.routes = Routes()
    srv.PromptServer = PromptServer
    return srv


@contextlib.contextmanager
def installed(base: Path):
    """ComfyUI's modules as stand-ins for the duration of the block (host sees "inside ComfyUI")."""
    import torch

    from motioncomic.host import folders, presence

    (base / "models").mkdir(parents=True, exist_ok=True)
    comfy = types.ModuleType("comfy")
    mods = {"folder_paths": _folder_paths(base), "comfy": comfy, "comfy.model_management": _model_management(torch),
            "comfy.model_patcher": _model_patcher(), "comfy.utils": _utils(), "server": _server()}
    comfy.model_management, comfy.model_patcher, comfy.utils = (
        mods["comfy.model_management"], mods["comfy.model_patcher"], mods["comfy.utils"])
    saved = {k: sys.modules.get(k) for k in mods}
    sys.modules.update(mods)
    presence.forget()
    extra = dict(folders._extra)
    try:
        yield types.SimpleNamespace(**{k.replace(".", "_"): v for k, v in mods.items()})
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
        presence.forget()
        folders._extra.clear()
        folders._extra.update(extra)
