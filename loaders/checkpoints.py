"""Safe, memory-frugal checkpoint reading shared by every loader.

- ``.safetensors`` is parsed by us (8-byte header length + JSON header) and read tensor by tensor
  with ``readinto`` into freshly allocated storage: no pickle, no second full copy, and a truncated
  or foreign file is detected before anything is allocated.
- Pickle formats (``.pt .pth .bin .ckpt .pkl``) go only through ``torch.load(weights_only=True)``
  (memory-mapped when the file is a zip archive). Anything needing arbitrary unpickling is refused.
- A folder or ``*.index.json`` of shards is read shard by shard.
- Training wrappers are unwrapped (``state_dict``/``model``/``module``/``ema`` containers) and
  ``module.`` / ``_orig_mod.`` prefixes stripped.

``assign_tensors`` moves tensors into a module built on the meta device (``accelerate``'s
``init_empty_weights`` or ``torch.device("meta")``) one at a time, converting dtype on the way,
so peak memory stays near one copy of the weights.
"""
from __future__ import annotations

import json
import logging
import os
import struct
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import CheckpointError

log = logging.getLogger(__name__)

SAFETENSORS_EXT = (".safetensors", ".sft")
PICKLE_EXT = (".pt", ".pth", ".bin", ".ckpt", ".pkl")
CHECKPOINT_EXT = SAFETENSORS_EXT + PICKLE_EXT

_ST_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool",
    "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2",
}
_ST_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
             "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}
_CONTAINER_KEYS = ("state_dict", "model_state_dict", "model", "module", "ema", "net", "params")
_PREFIXES = ("module.", "_orig_mod.")


# --------------------------------------------------------------------------- safetensors
def read_safetensors_header(path: str | os.PathLike) -> dict[str, dict]:
    """Tensor entries of a safetensors file (name -> {dtype, shape, data_offsets}), validated.

    Raises :class:`CheckpointError` for a truncated file or one that is not safetensors.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise CheckpointError(f"{path} is empty or truncated ({size} bytes); download it again.")
        (hlen,) = struct.unpack("<Q", raw)
        if hlen > min(size - 8, 100_000_000):
            raise CheckpointError(
                f"{path} is not a valid safetensors file (header length {hlen} > file size {size})."
                " It may be truncated, or another format renamed to .safetensors; download it again."
            )
        try:
            header = json.loads(f.read(hlen))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{path} has a corrupt safetensors header ({e}); download it again.") from e
    header.pop("__metadata__", None)
    data_end = max((v["data_offsets"][1] for v in header.values()), default=0)
    if 8 + hlen + data_end > size:
        raise CheckpointError(
            f"{path} is truncated: its header promises {8 + hlen + data_end:,} bytes but the file has "
            f"{size:,}. The download was probably interrupted; download it again."
        )
    for name, v in header.items():
        if v.get("dtype") not in _ST_DTYPES:
            raise CheckpointError(f"{path}: tensor {name} has unsupported dtype {v.get('dtype')}")
    return header


def safetensors_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The free-form ``__metadata__`` of a safetensors file (may be empty)."""
    with open(path, "rb") as f:
        (hlen,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(hlen)).get("__metadata__", {}) or {}


def _iter_safetensors(path: Path, names: Iterable[str] | None = None):
    import torch

    header = read_safetensors_header(path)
    with open(path, "rb") as f:
        (hlen,) = struct.unpack("<Q", f.read(8))
        base = 8 + hlen
        wanted = header if names is None else {n: header[n] for n in names if n in header}
        for name, v in sorted(wanted.items(), key=lambda kv: kv[1]["data_offsets"][0]):
            begin, end = v["data_offsets"]
            dtype = getattr(torch, _ST_DTYPES[v["dtype"]])
            buf = torch.empty(end - begin, dtype=torch.uint8)
            f.seek(base + begin)
            if end > begin and f.readinto(memoryview(buf.numpy())) != end - begin:
                raise CheckpointError(f"{path} is truncated at tensor {name}; download it again.")
            shape = v["shape"]
            yield name, (buf.view(dtype) if end > begin else torch.empty(0, dtype=dtype)).reshape(shape)


# --------------------------------------------------------------------------- pickles
def _torch_load(path: Path) -> dict:
    import pickle

    import torch

    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as e:
            if "mmap" not in str(e).lower() and "zip" not in str(e).lower():
                raise
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"{path} holds Python objects besides tensors, and we only unpickle with "
            f"weights_only=True for your safety. Convert it to .safetensors, or re-save only its state_dict. ({e})"
        ) from e
    except (EOFError, RuntimeError, OSError) as e:
        raise CheckpointError(f"{path} could not be read ({e}). It may be truncated; download it again.") from e
    return obj


def unwrap_state_dict(obj) -> dict:
    """Find the tensor dict inside common training containers and strip wrapper prefixes."""
    import torch

    seen = 0
    while isinstance(obj, dict) and seen < 4:
        tensors = sum(isinstance(v, torch.Tensor) for v in obj.values())
        if tensors and tensors >= len(obj) // 2:
            break
        inner = next((obj[k] for k in _CONTAINER_KEYS if isinstance(obj.get(k), dict)), None)
        if inner is None:
            break
        obj, seen = inner, seen + 1
    if not isinstance(obj, dict):
        raise CheckpointError(f"checkpoint holds a {type(obj).__name__}, not a dict of tensors")
    return {strip_prefixes(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def strip_prefixes(key: str, prefixes: tuple[str, ...] = _PREFIXES) -> str:
    """``key`` without any of ``prefixes`` in front (repeatedly: ``module._orig_mod.x`` -> ``x``)."""
    changed = True
    while changed:
        changed = False
        for p in prefixes:
            if key.startswith(p):
                key, changed = key[len(p):], True
    return key


# --------------------------------------------------------------------------- any format
def checkpoint_files(path: str | os.PathLike) -> list[Path]:
    """The file(s) making up a checkpoint: one file, an index's shards, or a folder's shards."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path} does not exist")
    if path.is_file() and path.name.endswith(".index.json"):
        index = json.loads(path.read_text())
        shards = sorted(set(index.get("weight_map", {}).values()))
        files = [path.parent / s for s in shards]
        missing = [str(f) for f in files if not f.exists()]
        if missing:
            raise CheckpointError(f"{path} lists shards that are missing: {', '.join(missing)}")
        return files
    if path.is_dir():
        for idx in sorted(path.glob("*.index.json")):
            return checkpoint_files(idx)
        files = sorted(p for p in path.iterdir() if p.suffix in CHECKPOINT_EXT and p.is_file())
        st = [p for p in files if p.suffix in SAFETENSORS_EXT]
        if st or files:
            return st or files
        raise CheckpointError(f"no checkpoint files (.safetensors/.pt/.bin) in folder {path}")
    if path.suffix.lower() not in CHECKPOINT_EXT:
        raise CheckpointError(
            f"{path.name}: unknown checkpoint format; expected one of {', '.join(CHECKPOINT_EXT)}"
        )
    return [path]


def iter_tensors(path: str | os.PathLike, names: Iterable[str] | None = None) -> Iterator[tuple]:
    """Yield ``(name, tensor)`` pairs from any supported checkpoint, one tensor at a time for
    safetensors. Names have wrapper prefixes stripped."""
    for file in checkpoint_files(path):
        if file.suffix in SAFETENSORS_EXT:
            for name, t in _iter_safetensors(file, names):
                yield strip_prefixes(name), t
        else:
            sd = unwrap_state_dict(_torch_load(file))
            wanted = None if names is None else {strip_prefixes(n) for n in names}
            for name in list(sd):
                if wanted is None or name in wanted:
                    yield name, sd.pop(name)


def read_state_dict(path: str | os.PathLike) -> dict:
    """The whole state dict (prefix-stripped) of any supported checkpoint."""
    return dict(iter_tensors(path))


def read_shapes(path: str | os.PathLike) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape without reading the weights (safetensors); pickles are loaded mmapped."""
    shapes: dict[str, tuple[int, ...]] = {}
    for file in checkpoint_files(path):
        if file.suffix in SAFETENSORS_EXT:
            for k, v in read_safetensors_header(file).items():
                shapes[strip_prefixes(k)] = tuple(v["shape"])
        else:
            for k, v in unwrap_state_dict(_torch_load(file)).items():
                shapes[k] = tuple(v.shape)
    return shapes


def file_size(path: str | os.PathLike) -> int:
    return sum(f.stat().st_size for f in checkpoint_files(path))


# --------------------------------------------------------------------------- into a module
def assign_tensors(module, tensors: Iterable[tuple], dtype=None, device=None,
                   key_map=None, keep_dtype: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """Put ``(name, tensor)`` pairs into ``module``'s parameters/buffers, one at a time.

    ``module`` may have been built on the meta device. Floating tensors are converted to ``dtype``
    (unless their name contains one of ``keep_dtype``), all moved to ``device``. ``key_map``
    optionally renames checkpoint keys (return None to drop one). Returns ``(missing,
    unexpected)`` key lists; raises :class:`CheckpointError` on a shape mismatch.
    """
    import torch

    own = dict(module.named_parameters())
    own_buffers = dict(module.named_buffers())
    filled: set[str] = set()
    unexpected: list[str] = []
    for name, t in tensors:
        if key_map is not None:
            name = key_map(name)
            if name is None:
                continue
        target = own.get(name)
        if target is None:
            target = own_buffers.get(name)
        if target is None:
            unexpected.append(name)
            continue
        if tuple(target.shape) != tuple(t.shape):
            raise CheckpointError(
                f"tensor {name} has shape {tuple(t.shape)} in the checkpoint but the model expects "
                f"{tuple(target.shape)}: the checkpoint is of another size or variant"
            )
        if t.is_floating_point() and not any(k in name for k in keep_dtype):
            want = dtype or (target.dtype if target.device.type != "meta" else t.dtype)
        else:
            want = target.dtype if not t.is_floating_point() else t.dtype
        t = t.to(device=device or "cpu", dtype=want)
        owner_name, _, attr = name.rpartition(".")
        owner = module.get_submodule(owner_name) if owner_name else module
        if name in own:
            setattr(owner, attr, torch.nn.Parameter(t, requires_grad=False))
        else:
            owner._buffers[attr] = t
        filled.add(name)
    missing = [n for n in own if n not in filled]
    missing += [n for n, b in own_buffers.items() if n not in filled and b.device.type == "meta"]
    return missing, unexpected
