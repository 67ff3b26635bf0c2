"""DWPose model files: where they live, what they must look like, and opening them.

Searched (through :mod:`host` only): ``models/dwpose/`` and, when present, the folder
comfyui_controlnet_aux downloads ``yzd-v/DWPose`` into
(``custom_nodes/comfyui_controlnet_aux/ckpts/yzd-v/DWPose/``, or ``$AUX_ANNOTATOR_CKPTS_PATH/yzd-v/DWPose``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import host
from ..errors import MotionComicError
from ..faces import runtime

KIND = "dwpose"
DETECTOR = "yolox_l.onnx"
POSE_MODEL = "dw-ll_ucoco_384.onnx"
WHERE = ("Put yolox_l.onnx and dw-ll_ucoco_384.onnx from https://huggingface.co/yzd-v/DWPose in "
         "models/dwpose/ (comfyui_controlnet_aux's ckpts/yzd-v/DWPose/ folder is searched too).")
WHOLEBODY_POINTS = 133


def choices(kind_hint: str) -> list[str]:
    """ONNX files in the DWPose folders; detectors (``kind_hint="det"``) or pose models first
    (one entry saying what is missing when there are none)."""
    files = host.list_files(KIND, [".onnx"])
    if not files:
        return [host.empty_choice("DWPose .onnx file", KIND)]
    is_det = [("yolo" in Path(f).name.lower()) for f in files]
    want = kind_hint == "det"
    return [f for f, d in zip(files, is_det) if d == want] + [f for f, d in zip(files, is_det) if d != want]


def resolve(name: str) -> Path:
    return host.find_model(KIND, name, WHERE)


@dataclass
class DWPoseModels:
    """The opened detector and pose model; ``input_size`` values are (height, width)."""

    detector: Any  # faces.runtime.OnnxModel
    pose: Any
    det_size: tuple[int, int]
    pose_size: tuple[int, int]

    def run_detector(self, x):
        return self.detector.run({self.detector.inputs[0].name: x})[0]

    def run_pose(self, x):
        out = self.pose.run({self.pose.inputs[0].name: x})
        return out[0], out[1]

    def describe(self) -> str:
        return (f"DWPose detector {self.detector.path.name} ({self.det_size[1]}x{self.det_size[0]}), "
                f"pose {self.pose.path.name} ({self.pose_size[1]}x{self.pose_size[0]}) on "
                f"{', '.join(self.pose.providers)}")


def _input_size(model, default: tuple[int, int] | None) -> tuple[int, int]:
    inp = model.inputs[0]
    h, w = inp.dim(2), inp.dim(3)
    if h and w:
        return h, w
    if default is None:
        raise MotionComicError(f"{model.path.name} has a dynamic input size ({inp.describe()}); "
                               "the pose model needs a fixed one such as 384x288")
    return default


def check_detector(model) -> tuple[int, int]:
    outs = model.outputs
    if len(model.inputs) != 1 or model.inputs[0].rank != 4 or len(outs) != 1 or outs[0].rank != 3 or (
            outs[0].dim(2) is not None and outs[0].dim(2) < 6):
        raise MotionComicError(
            f"{model.path.name} is not a YOLOX person detector ({model.signature()}); expected one image input "
            f"[1,3,640,640] and one output [1,anchors,5+classes] like {DETECTOR}. " + WHERE)
    return _input_size(model, (640, 640))


def check_pose(model) -> tuple[int, int]:
    outs = model.outputs
    ok = len(model.inputs) == 1 and model.inputs[0].rank == 4 and len(outs) == 2 and all(o.rank == 3 for o in outs)
    if ok and any(o.dim(1) not in (None, WHOLEBODY_POINTS) for o in outs):
        raise MotionComicError(
            f"{model.path.name} predicts {outs[0].dim(1)} keypoints, not the {WHOLEBODY_POINTS} whole-body points "
            f"of {POSE_MODEL} (body, feet, face and hands are all needed). " + WHERE)
    if not ok:
        hint = " It looks like a detector: choose it as the detector." if len(outs) == 1 else ""
        raise MotionComicError(
            f"{model.path.name} is not a DWPose/RTMPose SimCC model ({model.signature()}); expected one input "
            f"[1,3,384,288] and outputs simcc_x [1,133,576], simcc_y [1,133,768].{hint} " + WHERE)
    return _input_size(model, None)


def open_dwpose(detector: str | Path, pose: str | Path, device: str = "auto") -> DWPoseModels:
    """Open both models (paths already resolved through :func:`resolve`) and check their signatures.

    A truncated or corrupt file raises :class:`MotionComicError` naming it (from ``faces.runtime``).
    """
    det = runtime.open_model(detector, device)
    pm = runtime.open_model(pose, device)
    return DWPoseModels(det, pm, check_detector(det), check_pose(pm))
