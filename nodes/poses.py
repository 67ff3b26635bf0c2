"""Pose nodes: Load DWPose, Extract Poses (frames -> keypoints), Retarget Poses (onto the character)."""
from __future__ import annotations

from ._common import DWPOSE, POSES
from ._schema import Boolean, Combo, Custom, Float, Image, Input, Int, Node, Out

_STYLE = ("Drawing style of the preview/pose images: mimicmotion = what MimicMotion was trained on; "
          "dwpose = the DWPose/OpenPose ControlNet style.")
_STYLES = ["mimicmotion", "dwpose"]


def _dwpose_inputs() -> list[Input]:
    # a function: the file lists and their defaults come from poses.files (numpy), not imported before it is asked
    from ..poses import files as F

    return [
        Combo("detector", F.choices("det"), "YOLOX person detector (yolox_l.onnx).", default=F.DETECTOR),
        Combo("pose_model", F.choices("pose"), "Whole-body SimCC pose model (dw-ll_ucoco_384.onnx, 133 points).",
              default=F.POSE_MODEL),
        Combo("device", ["auto", "cpu", "cuda"], "ONNX Runtime device. auto = CUDA when a test session really runs "
              "on it, else CPU.", default="auto"),
    ]


def load(detector, pose_model, device):
    from ..poses import files as F

    return (F.open_dwpose(F.resolve(detector), F.resolve(pose_model), device),)


def extract(dwpose, images, mode, detect_every, fps, style):
    from ..poses import extract as X
    from ..poses.render import render_poses

    poses = X.extract_frames(dwpose, X.iter_image_batch(images), mode=mode, detect_every=detect_every,
                             total=int(images.shape[0]), fps=float(fps))
    return poses, render_poses(poses, style)


def retarget(dwpose, reference_image, poses, method, smoothing, fill_missing, style):
    from ..poses import extract as X
    from ..poses import retarget as R
    from ..poses.render import render_poses

    ref = X.extract_image(dwpose, reference_image[0])
    moved = R.retarget(ref, poses, R.RetargetOptions(method=method, smoothing=bool(smoothing),
                                                     fill_missing=fill_missing))
    return moved, render_poses(moved, style), render_poses(ref, style)


NODES = [
    Node(
        "MotionComicLoadDWPose", "Load DWPose (motioncomic)",
        "Opens DWPose (yolox_l.onnx + dw-ll_ucoco_384.onnx from huggingface.co/yzd-v/DWPose) with ONNX Runtime. "
        "Files are searched in models/dwpose/ and comfyui_controlnet_aux's ckpts/yzd-v/DWPose/.",
        load,
        inputs=_dwpose_inputs,
        outputs=[Out(DWPOSE, "dwpose", "The opened detector and pose model, for Extract Poses and Retarget Poses.")],
    ),
    Node(
        "MotionComicExtractPoses", "Extract Poses (motioncomic)",
        "Runs DWPose on every frame (the detector on key frames and tracking in between, or the detector on every "
        "frame). Frames without a person keep the previous pose and are listed in the log.",
        extract,
        inputs=[
            Custom("dwpose", DWPOSE, "From Load DWPose."),
            Image("images", "The driving clip's frames (e.g. from Load Video)."),
            Combo("mode", ["track", "every_frame"], "track = detector every detect_every frames and when the dancer "
                  "is lost, the crop follows the keypoints in between (faster); every_frame = detector on every "
                  "frame.", default="track"),
            Int("detect_every", "With track: run the detector every n frames.", default=8, min=1, max=120),
            Float("fps", "Frame rate of the clip (connect Load Video's fps); drives the smoothing.", default=24.0,
                  min=1.0, max=240.0, step=0.01),
            Combo("style", _STYLES, _STYLE, default="mimicmotion"),
        ],
        outputs=[
            Out(POSES, "poses", "Keypoints with confidences per frame (at the clip's size), for Retarget Poses."),
            Out("IMAGE", "pose_images", "The poses drawn at the clip's size (for checking, or a pose ControlNet)."),
        ],
    ),
    Node(
        "MotionComicRetargetPoses", "Retarget Poses (motioncomic)",
        "Retargets driving poses onto the character in the reference image: the character's bone lengths and "
        "placement, the dancer's joint angles, timing, zoom and travel (skeleton), or MimicMotion's global "
        "scale+offset fit (global). Output poses are in the reference image's pixels.",
        retarget,
        inputs=[
            Custom("dwpose", DWPOSE, "From Load DWPose (finds the character's pose in the reference image)."),
            Image("reference_image", "The character image (first image of the batch)."),
            Custom("poses", POSES, "Driving poses from Extract Poses."),
            Combo("method", ["skeleton", "global", "none"], "skeleton = the character's own proportions (per bone, "
                  "anchored at the neck); global = MimicMotion's single scale+offset fit (keeps the dancer's "
                  "build); none = the dancer's frame letterboxed into the reference image.", default="skeleton"),
            Boolean("smoothing", "One-Euro filter on the driving keypoints (removes jitter, little lag); side swaps "
                    "and one-frame jumps are rejected either way.", default=True),
            Combo("fill_missing", ["reference", "hide"], "Limbs the clip never shows (an upper-body clip): keep the "
                  "character's own pose, or hide them.", default="reference"),
            Combo("style", _STYLES, _STYLE, default="mimicmotion"),
        ],
        outputs=[
            Out(POSES, "poses", "The retargeted poses (reference image size), for a pose-driven video model."),
            Out("IMAGE", "pose_images", "The retargeted poses drawn at the reference image's size (a pose ControlNet "
                "takes them)."),
            Out("IMAGE", "reference_pose", "The reference character's own detected pose, drawn."),
        ],
    ),
]
