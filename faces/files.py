"""Where face model files live and how the loader's choices map to paths.

Detectors: every ``.onnx``/``.xml`` in ``models/facedetection/``, plus the detector files users
already keep in ``models/insightface/`` (insightface packs such as ``buffalo_l/det_10g.onnx``),
shown as ``insightface/<path>``. The file-name filter only decides what is *listed* for
insightface; what a file is, is always read from the model itself.

Built in: nagadomi's LBP anime-face cascade (MIT, ``faces/data/``), a weight-free detector that works
with nothing downloaded; "auto" uses it when no cascade of the user's own is listed.
"""
from __future__ import annotations

from pathlib import Path

from .. import host
from ..errors import MotionComicError

NONE = "none"
AUTO = "auto"
INSIGHTFACE_PREFIX = "insightface/"
_DETECTOR_HINTS = ("det_", "scrfd", "retinaface", "yolo")
BUILTIN_CASCADE = "(built-in) lbpcascade_animeface.xml"
_BUILTIN_PATH = Path(__file__).resolve().parent / "data" / "lbpcascade_animeface.xml"

WHERE = {
    "facedetection": "Put face detectors (SCRFD/RetinaFace/YOLO-face .onnx, lbpcascade_animeface.xml) in models/facedetection/.",
    "insightface": "Put inswapper_128.onnx and the buffalo_l pack (det_10g.onnx, w600k_r50.onnx) in models/insightface/.",
    "facerestore_models": "Put GFPGAN / CodeFormer / GPEN / RestoreFormer .onnx files in models/facerestore_models/.",
}


def detector_choices() -> list[str]:
    own = host.list_files("facedetection", [".onnx", ".xml"])
    ins = [INSIGHTFACE_PREFIX + f for f in host.list_files("insightface", [".onnx"])
           if any(h in Path(f).name.lower() for h in _DETECTOR_HINTS)]
    return own + ins + [BUILTIN_CASCADE]


def swapper_choices() -> list[str]:
    return host.list_files("insightface", [".onnx"])


def enhancer_choices() -> list[str]:
    return host.list_files("facerestore_models", [".onnx"])


def mask_choices() -> list[str]:
    own = set(host.list_files("facerestore_models", [".onnx"])) | set(host.list_files("facedetection", [".onnx"]))
    return sorted(own)


def resolve_detector(name: str) -> Path:
    if name == BUILTIN_CASCADE:
        return _BUILTIN_PATH
    if name.startswith(INSIGHTFACE_PREFIX):
        return host.find_model("insightface", name[len(INSIGHTFACE_PREFIX):], WHERE["insightface"])
    return host.find_model("facedetection", name, WHERE["facedetection"])


def resolve(kind: str, name: str) -> Path | None:
    """Path of ``name`` in the ``kind`` folders, None for "none"."""
    if not name or name == NONE:
        return None
    return host.find_model(kind, name, WHERE.get(kind, ""))


def resolve_mask(name: str) -> Path | None:
    if not name or name == NONE:
        return None
    try:
        return host.find_model("facerestore_models", name)
    except MotionComicError:
        return host.find_model("facedetection", name, WHERE["facedetection"])


def detectors_for(choice: str) -> tuple[tuple[Path, ...], bool]:
    """(detector paths, auto) for the loader's detector choice; "auto" = every listed detector."""
    if choice == AUTO:
        names = [n for n in detector_choices() if n != BUILTIN_CASCADE]
        if not any(n.lower().endswith(".xml") for n in names):
            names.append(BUILTIN_CASCADE)  # no cascade of the user's own: the built-in one finds anime faces
        return tuple(resolve_detector(n) for n in names), True
    return (resolve_detector(choice),), False
