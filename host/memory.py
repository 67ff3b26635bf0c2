"""Devices and memory, shared with ComfyUI's model management.

Inside ComfyUI every torch module we load is wrapped in one of ComfyUI's own ``ModelPatcher`` objects
(``manage``) and put on the GPU through ``comfy.model_management.load_models_gpu``, exactly as core
loads CLIP vision or upscale models. So ComfyUI counts our memory, unloads our models when another
model needs the room, and "Unload models" / ``POST /free`` releases them; the next run loads them
back. Caches that hold no torch module (ONNX sessions) register a clear function
(``register_cache``) that runs when ComfyUI unloads it.

Standalone there is no manager: ``on_device`` moves the module and back, as before.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import threading
import weakref
from typing import Any, Callable, Iterator

from .presence import in_comfyui

log = logging.getLogger(__name__)

_PATCHER = "_motioncomic_patcher"
_lock = threading.Lock()
_managed: "weakref.WeakSet[Any]" = weakref.WeakSet()  # patchers we made (for status)
_caches: dict[str, Any] = {}


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


#: Device names a node may offer; ``auto`` is :func:`torch_device`.
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def device_named(name: str):
    """The torch device for a node's device choice, refused clearly when this machine has none of it
    (``cuda`` on a CPU-only server would otherwise fail at the first frame with torch's own error)."""
    import torch

    from ..errors import MotionComicError

    if name not in DEVICE_CHOICES:
        raise MotionComicError(f"device must be one of {', '.join(DEVICE_CHOICES)}, got {name!r}")
    if name == "auto":
        return torch_device()
    if name == "cuda" and not torch.cuda.is_available():
        raise MotionComicError("device 'cuda' was chosen but this machine has no usable CUDA GPU (or this torch "
                               "build has no CUDA); choose auto or cpu")
    if name == "mps" and not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
        raise MotionComicError("device 'mps' was chosen but this machine has no Apple GPU (MPS); choose auto or cpu")
    return torch.device(name)


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


def module_bytes(module) -> int:
    """Bytes of a module's parameters and buffers."""
    return sum(t.numel() * t.element_size() for t in list(module.parameters()) + list(module.buffers()))


def _hooked(module) -> bool:
    """Weights placed by accelerate hooks (sequential offload): never move them ourselves."""
    return any(hasattr(m, "_hf_hook") for m in module.modules())


# --------------------------------------------------------------------------- ComfyUI model management
def _make_patcher(module, name: str, device):
    """A ComfyUI ``ModelPatcher`` around ``module`` (held in a plain container: the patcher sets
    attributes such as ``device`` that diffusers/transformers models expose read-only)."""
    import torch
    from comfy.model_patcher import ModelPatcher

    class Held(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

    patcher = ModelPatcher(Held(module), load_device=device, offload_device=offload_device())
    patcher.motioncomic_name = name
    return patcher


def manage(owner: Any, modules: dict[str, Any], name: str, device=None) -> None:
    """Make ``modules`` known to ComfyUI's model management (no-op standalone).

    ``owner`` keeps the patchers alive (``owner.patchers``, when it has such a dict); ComfyUI only
    holds weak references, so a model that leaves ComfyUI's node cache is freed with it.
    """
    if not in_comfyui():
        return
    import comfy.model_management as mm

    dev = device if device is not None else mm.get_torch_device()
    made = {}
    for part, module in modules.items():
        if module is None or not hasattr(module, "parameters") or _hooked(module):
            continue
        patcher = getattr(module, _PATCHER, None)
        if patcher is None:
            patcher = _make_patcher(module, f"{name}/{part}", dev)
            setattr(module, _PATCHER, patcher)
            with _lock:
                _managed.add(patcher)
        made[part] = patcher
    if isinstance(getattr(owner, "patchers", None), dict):
        owner.patchers.update(made)


def _loaded_entry(patcher):
    import comfy.model_management as mm

    for i, lm in enumerate(mm.current_loaded_models):
        if lm.model is patcher:
            return i, lm
    return None, None


def place(modules: list[Any], device) -> None:
    """Put ``modules`` on ``device`` for good (offload "none"): through ComfyUI's model management
    when it manages them (it frees room first and may unload them later), else free + move."""
    patchers = [getattr(m, _PATCHER, None) for m in modules]
    if in_comfyui() and all(p is not None for p in patchers):
        import comfy.model_management as mm

        mm.load_models_gpu(patchers, force_full_load=True)
        return
    free_memory(sum(module_bytes(m) for m in modules), device)
    for m in modules:
        if not _hooked(m):
            m.to(device)


@contextlib.contextmanager
def on_device(module, device, *, offload: bool) -> Iterator[Any]:
    """Run ``module`` on ``device``: memory is freed for it first (ComfyUI unloads other models), and
    with ``offload`` it goes back to the offload device afterwards. THE one helper for this.

    Inside ComfyUI a managed module is (re)loaded through ``load_models_gpu``, so a module ComfyUI
    unloaded between runs comes back; modules placed by accelerate hooks are left alone.
    """
    if module is None or _hooked(module):
        yield module
        return
    patcher = getattr(module, _PATCHER, None)
    if in_comfyui() and patcher is not None:
        import comfy.model_management as mm

        mm.load_models_gpu([patcher], force_full_load=True)
        try:
            yield module
        finally:
            if offload:
                i, lm = _loaded_entry(patcher)
                if lm is not None:
                    lm.model_unload()
                    mm.current_loaded_models.pop(i)
                soft_empty_cache()
        return
    import torch

    target = torch.device(device)
    here = next((p.device for p in module.parameters()), target)
    if here != target:
        free_memory(module_bytes(module), target)
        module.to(target)
    try:
        yield module
    finally:
        if offload and target != offload_device():
            module.to(offload_device())
            soft_empty_cache()


# --------------------------------------------------------------------------- caches without torch modules
def register_cache(name: str, clear: Callable[[], None], size_bytes: Callable[[], int] = lambda: 0) -> None:
    """A cache (ONNX sessions, interpolators) that ComfyUI's "Unload models" / ``/free`` clears.

    Inside ComfyUI the cache is entered in the model manager as a zero-weight ``ModelPatcher`` whose
    unload calls ``clear``; call ``touch_cache(name)`` when the cache fills so it is listed again.
    Standalone it is only remembered (``clear_caches()`` clears all, e.g. between tests).
    """
    _caches.setdefault(name, {"patcher": None}).update(clear=clear, size=size_bytes)


def touch_cache(name: str) -> None:
    """The cache ``name`` holds something again: make sure ComfyUI can unload it."""
    entry = _caches.get(name)
    if entry is None or not in_comfyui():
        return
    import comfy.model_management as mm

    if entry["patcher"] is None:
        entry["patcher"] = _cache_patcher(name, entry)
    if _loaded_entry(entry["patcher"])[1] is None:
        mm.load_models_gpu([entry["patcher"]], force_full_load=True)


def _cache_patcher(name: str, entry: dict):
    import torch
    from comfy.model_patcher import ModelPatcher

    class CachePatcher(ModelPatcher):
        def model_size(self):
            return int(entry["size"]())

        def detach(self, unpatch_all=True):
            log.info("ComfyUI unloads the %s cache", name)
            entry["clear"]()
            return super().detach(unpatch_all)

    p = CachePatcher(torch.nn.Module(), load_device=torch_device(), offload_device=offload_device())
    p.motioncomic_name = name
    with _lock:
        _managed.add(p)
    return p


def clear_caches() -> None:
    for entry in list(_caches.values()):
        entry["clear"]()


def managed_status() -> list[dict]:
    """What we registered with ComfyUI and whether it is loaded now (``GET /motioncomic/memory``)."""
    if not in_comfyui():
        return []
    out = []
    for p in list(_managed):
        out.append({"name": getattr(p, "motioncomic_name", "?"), "loaded": _loaded_entry(p)[1] is not None,
                    "bytes": int(p.model_size())})
    return sorted(out, key=lambda d: d["name"])
