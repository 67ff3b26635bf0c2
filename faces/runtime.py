"""ONNX Runtime sessions: provider choice by what actually runs, a session cache, clear errors.

``onnxruntime-gpu`` lists ``CUDAExecutionProvider`` as available even where the CUDA libraries
cannot be loaded, so "available" is not proof. :func:`usable_providers` builds a one-node model,
opens it with CUDA first and runs it; CUDA is used only when the session reports it and the run
succeeds. The answer is computed once per process.

Sessions are cached by ``(path, mtime, size, providers)``: a re-run of a graph reuses them, a
replaced file is reloaded.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .. import host
from ..errors import MotionComicError

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"

_lock = threading.Lock()
_sessions: dict[tuple, Any] = {}
_probe: dict[str, tuple[str, ...]] = {}

REINSTALL = (
    "Reinstall ONE ONNX Runtime: `pip uninstall -y onnxruntime onnxruntime-gpu` then "
    "`pip install onnxruntime-gpu` (NVIDIA GPU, also runs on CPU) or `pip install onnxruntime`."
)


def import_ort():
    """Import onnxruntime, or raise an error that says how to repair a broken install."""
    try:
        import onnxruntime as ort

        ort.InferenceSession  # noqa: B018  (a half-overwritten install lacks it)
    except Exception as exc:  # ImportError, or AttributeError from a clobbered package
        raise MotionComicError(f"onnxruntime cannot be imported ({exc}). {REINSTALL}") from exc
    if "warned" not in _probe:
        _probe["warned"] = ()
        found = installed_ort_distributions()
        if len(found) > 1:  # works now, but uninstalling either one breaks the other
            log.warning("several ONNX Runtime packages share one folder (%s). %s", ", ".join(found), REINSTALL)
    return ort


def installed_ort_distributions() -> list[str]:
    """Names of the ONNX Runtime distributions pip knows about (more than one = conflict)."""
    from importlib import metadata

    names = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino")
    found = []
    for name in names:
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        found.append(name)
    return found


def _probe_model_bytes() -> bytes:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "probe", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def usable_providers(preference: str = "auto") -> tuple[str, ...]:
    """Providers that really run here: ``("CUDAExecutionProvider", "CPUExecutionProvider")`` or CPU.

    ``preference``: ``"auto"`` (CUDA if it runs), ``"cpu"``, ``"cuda"`` (CUDA if it runs, with a
    warning when it does not).
    """
    if preference == "cpu":
        return (CPU,)
    with _lock:
        if "auto" in _probe:  # the probe result, computed once per process
            chosen = _probe["auto"]
        else:
            chosen = _probe["auto"] = _probe_cuda()
    if preference == "cuda" and CUDA not in chosen:
        log.warning("CUDA was asked for but does not run here; faces run on CPU")
    return chosen


def _probe_cuda() -> tuple[str, ...]:
    import numpy as np

    ort = import_ort()
    if CUDA not in ort.get_available_providers():
        return (CPU,)
    try:
        ort.set_default_logger_severity(4)  # a missing CUDA library is expected here, not an error
        opts = ort.SessionOptions()
        opts.log_severity_level = 4
        sess = ort.InferenceSession(_probe_model_bytes(), opts, providers=[CUDA, CPU])
        if CUDA not in sess.get_providers():
            raise RuntimeError("the session fell back to " + ", ".join(sess.get_providers()))
        out = sess.run(None, {"x": np.array([[-1, 0, 1, 2]], np.float32)})[0]
        if not np.allclose(out, [[0, 0, 1, 2]]):
            raise RuntimeError("wrong result from the CUDA provider")
    except Exception as exc:
        log.info("CUDAExecutionProvider is listed but does not run (%s); using CPU", exc)
        return (CPU,)
    finally:
        ort.set_default_logger_severity(2)
    log.info("onnxruntime runs on CUDA")
    return (CUDA, CPU)


@dataclass(frozen=True)
class TensorInfo:
    """One model input or output: name, shape (ints, or None for dynamic dims) and element type."""

    name: str
    shape: tuple
    type: str

    @property
    def rank(self) -> int:
        return len(self.shape)

    def dim(self, i: int) -> int | None:
        d = self.shape[i] if -len(self.shape) <= i < len(self.shape) else None
        return d if isinstance(d, int) and d > 0 else None

    def describe(self) -> str:
        return f"{self.name}[{','.join('?' if not isinstance(d, int) or d <= 0 else str(d) for d in self.shape)}]"


def _infos(args) -> tuple[TensorInfo, ...]:
    return tuple(
        TensorInfo(a.name, tuple(d if isinstance(d, int) and d > 0 else None for d in (a.shape or ())), a.type)
        for a in args
    )


class OnnxModel:
    """An opened ONNX model: the session, its inputs/outputs, and a batched ``run``."""

    def __init__(self, path: Path, session: Any):
        self.path = Path(path)
        self.session = session
        self.inputs = _infos(session.get_inputs())
        self.outputs = _infos(session.get_outputs())

    @property
    def providers(self) -> list[str]:
        return list(self.session.get_providers())

    def signature(self) -> str:
        """``inputs a[1,3,128,128], b[1,512] -> outputs c[...]`` for error messages."""
        ins = ", ".join(i.describe() for i in self.inputs)
        outs = ", ".join(o.describe() for o in self.outputs)
        return f"inputs {ins} -> outputs {outs}"

    def batch_dynamic(self) -> bool:
        """True when every input's first dimension is dynamic (the model accepts batches)."""
        return all(i.rank > 0 and i.dim(0) is None for i in self.inputs)

    def run(self, feeds: dict[str, Any], output_names: Sequence[str] | None = None) -> list:
        return self.session.run(list(output_names) if output_names else None, feeds)

    def run_batched(self, batched: dict[str, Any], fixed: dict[str, Any] | None = None,
                    max_batch: int = 8) -> list:
        """Run over the first axis of every array in ``batched`` (one call per chunk when the model's
        batch dim is dynamic, else one call per item) and concatenate the outputs."""
        import numpy as np

        fixed = fixed or {}
        n = len(next(iter(batched.values())))
        step = max_batch if self.batch_dynamic() else 1
        parts: list[list] = []
        for s in range(0, n, step):
            feeds = {k: v[s:s + step] for k, v in batched.items()}
            feeds.update(fixed)
            parts.append(self.run(feeds))
        return [np.concatenate([p[i] for p in parts], axis=0) for i in range(len(parts[0]))]


def open_model(path: str | os.PathLike, preference: str = "auto") -> OnnxModel:
    """Open (or reuse) an ONNX model with the providers that run here.

    Raises :class:`MotionComicError` naming the file when it is not a readable ONNX model.
    """
    path = Path(path)
    if not path.is_file():
        raise MotionComicError(f"ONNX model {path} does not exist.")
    st = path.stat()
    providers = usable_providers(preference)
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size, providers)
    with _lock:
        hit = _sessions.get(key)
    if hit is not None:
        return hit
    ort = import_ort()
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    threads = os.environ.get("OMP_NUM_THREADS")
    if threads and threads.isdigit():
        opts.intra_op_num_threads = int(threads)
    try:
        session = ort.InferenceSession(str(path), opts, providers=list(providers))
    except Exception as exc:
        if providers != (CPU,):
            try:
                session = ort.InferenceSession(str(path), opts, providers=[CPU])
                log.warning("%s did not open on %s (%s); running it on CPU", path.name, providers[0], exc)
            except Exception:
                raise _unreadable(path, exc) from exc
        else:
            raise _unreadable(path, exc) from exc
    model = OnnxModel(path, session)
    with _lock:
        # a replaced file leaves stale entries: drop them
        for k in [k for k in _sessions if k[0] == key[0] and k != key]:
            del _sessions[k]
        _sessions[key] = model
    host.touch_cache(CACHE_NAME)  # ComfyUI's "Unload models" / /free now also closes these sessions
    log.info("opened %s on %s", path.name, ", ".join(model.providers))
    return model


def _unreadable(path: Path, exc: Exception) -> MotionComicError:
    return MotionComicError(
        f"{path} is not a readable ONNX model ({type(exc).__name__}: {str(exc).strip()[:300]}). "
        "The file is probably truncated or a failed download (an HTML page saved as .onnx): delete "
        "it and download it again, and check its size against the source."
    )


def clear_cache() -> None:
    """Forget every cached session (frees their memory)."""
    with _lock:
        _sessions.clear()


def cached_sessions() -> int:
    with _lock:
        return len(_sessions)


def _cached_bytes() -> int:
    """What the cached sessions weigh, estimated from their files (ONNX Runtime holds about that)."""
    with _lock:
        return sum(k[2] for k in _sessions)


CACHE_NAME = "faces/onnx-sessions"
host.register_cache(CACHE_NAME, clear_cache, _cached_bytes)


def read_initializer(path: str | os.PathLike, name: str | None = None, shape: tuple | None = None):
    """An initializer (weight) of the ONNX graph as a numpy array: by ``name``, else the last one
    with ``shape`` (inswapper keeps its ``emap`` as the last initializer)."""
    import onnx
    from onnx import numpy_helper

    path = Path(path)
    try:
        model = onnx.load(str(path), load_external_data=True)
    except Exception as exc:
        raise _unreadable(path, exc) from exc
    inits = list(model.graph.initializer)
    if name is not None:
        for t in inits:
            if t.name == name:
                return numpy_helper.to_array(t)
    if shape is not None:
        for t in reversed(inits):
            if tuple(t.dims) == tuple(shape):
                return numpy_helper.to_array(t)
    return None


def first_ops(path: str | os.PathLike, n: int = 8) -> list[str]:
    """Names of the first ``n`` graph nodes (insightface tells normalisation apart by them)."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise _unreadable(Path(path), exc) from exc
    return [node.name for node in model.graph.node[:n]]
