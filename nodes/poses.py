"""Pose nodes: Load DWPose, Extract Poses (frames -> keypoints), Retarget Poses (onto the character)."""
from __future__ import annotations

from ._common import CATEGORY, DWPOSE, POSES, tip

_STYLE = ("Drawing style of the preview/pose images: mimicmotion = what MimicMotion was trained on; "
          "dwpose = the DWPose/OpenPose ControlNet style.")


class MotionComicLoadDWPose:
    """Open DWPose's person detector and whole-body pose model (ONNX)."""

    DESCRIPTION = ("Opens DWPose (yolox_l.onnx + dw-ll_ucoco_384.onnx from huggingface.co/yzd-v/DWPose) with ONNX "
                   "Runtime. Files are searched in models/dwpose/ and comfyui_controlnet_aux's ckpts/yzd-v/DWPose/.")
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = (DWPOSE,)
    RETURN_NAMES = ("dwpose",)
    OUTPUT_TOOLTIPS = ("The opened detector and pose model, for Extract Poses and Retarget Poses.",)

    @classmethod
    def INPUT_TYPES(cls):
        from ..poses import files as F

        return {
            "required": {
                "detector": (F.choices("det"), tip("YOLOX person detector (yolox_l.onnx).", default=F.DETECTOR)),
                "pose_model": (F.choices("pose"), tip("Whole-body SimCC pose model (dw-ll_ucoco_384.onnx, 133 points).",
                                                      default=F.POSE_MODEL)),
                "device": (["auto", "cpu", "cuda"], tip("ONNX Runtime device. auto = CUDA when a test session really "
                                                        "runs on it, else CPU.", default="auto")),
            }
        }

    def load(self, detector, pose_model, device="auto"):
        from ..poses import files as F

        return (F.open_dwpose(F.resolve(detector), F.resolve(pose_model), device),)


class MotionComicExtractPoses:
    """Whole-body keypoints of the dancer in every frame of a driving clip."""

    DESCRIPTION = ("Runs DWPose on every frame (the detector on key frames and tracking in between, or the detector "
                   "on every frame). Frames without a person keep the previous pose and are listed in the log.")
    CATEGORY = CATEGORY
    FUNCTION = "extract"
    RETURN_TYPES = (POSES, "IMAGE")
    RETURN_NAMES = ("poses", "pose_images")
    OUTPUT_TOOLTIPS = ("Keypoints with confidences per frame (at the clip's size), for Retarget Poses.",
                       "The poses drawn at the clip's size (for checking, or a pose ControlNet).")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "dwpose": (DWPOSE, tip("From Load DWPose.")),
                "images": ("IMAGE", tip("The driving clip's frames (e.g. from Load Video).")),
                "mode": (["track", "every_frame"], tip("track = detector every detect_every frames and when the "
                                                       "dancer is lost, the crop follows the keypoints in between "
                                                       "(faster); every_frame = detector on every frame.",
                                                       default="track")),
                "detect_every": ("INT", tip("With track: run the detector every n frames.", default=8, min=1, max=120)),
                "fps": ("FLOAT", tip("Frame rate of the clip (connect Load Video's fps); drives the smoothing.",
                                     default=24.0, min=1.0, max=240.0, step=0.01)),
                "style": (["mimicmotion", "dwpose"], tip(_STYLE, default="mimicmotion")),
            }
        }

    def extract(self, dwpose, images, mode, detect_every, fps, style):
        from ..poses import extract as X
        from ..poses.render import render_poses

        poses = X.extract_frames(dwpose, X.iter_image_batch(images), mode=mode, detect_every=detect_every,
                                 total=int(images.shape[0]), fps=float(fps))
        return poses, render_poses(poses, style)


class MotionComicRetargetPoses:
    """Move the dancer's poses onto the reference character's body proportions."""

    DESCRIPTION = ("Retargets driving poses onto the character in the reference image: the character's bone lengths "
                   "and placement, the dancer's joint angles, timing, zoom and travel (skeleton), or MimicMotion's "
                   "global scale+offset fit (global). Output poses are in the reference image's pixels.")
    CATEGORY = CATEGORY
    FUNCTION = "retarget"
    RETURN_TYPES = (POSES, "IMAGE", "IMAGE")
    RETURN_NAMES = ("poses", "pose_images", "reference_pose")
    OUTPUT_TOOLTIPS = ("The retargeted poses (reference image size), for a pose-driven video model.",
                       "The retargeted poses drawn at the reference image's size (a pose ControlNet takes them).",
                       "The reference character's own detected pose, drawn.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "dwpose": (DWPOSE, tip("From Load DWPose (finds the character's pose in the reference image).")),
                "reference_image": ("IMAGE", tip("The character image (first image of the batch).")),
                "poses": (POSES, tip("Driving poses from Extract Poses.")),
                "method": (["skeleton", "global", "none"], tip(
                    "skeleton = the character's own proportions (per bone, anchored at the neck); global = "
                    "MimicMotion's single scale+offset fit (keeps the dancer's build); none = the dancer's frame "
                    "letterboxed into the reference image.", default="skeleton")),
                "smoothing": ("BOOLEAN", tip("One-Euro filter on the driving keypoints (removes jitter, little lag); "
                                             "side swaps and one-frame jumps are rejected either way.", default=True)),
                "fill_missing": (["reference", "hide"], tip(
                    "Limbs the clip never shows (an upper-body clip): keep the character's own pose, or hide them.",
                    default="reference")),
                "style": (["mimicmotion", "dwpose"], tip(_STYLE, default="mimicmotion")),
            }
        }

    def retarget(self, dwpose, reference_image, poses, method, smoothing, fill_missing, style):
        from ..poses import extract as X
        from ..poses import retarget as R
        from ..poses.render import render_poses

        ref = X.extract_image(dwpose, reference_image[0])
        moved = R.retarget(ref, poses, R.RetargetOptions(method=method, smoothing=bool(smoothing),
                                                         fill_missing=fill_missing))
        return moved, render_poses(moved, style), render_poses(ref, style)


NODE_CLASS_MAPPINGS = {
    "MotionComicLoadDWPose": MotionComicLoadDWPose,
    "MotionComicExtractPoses": MotionComicExtractPoses,
    "MotionComicRetargetPoses": MotionComicRetargetPoses,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "MotionComicLoadDWPose": "Load DWPose (motioncomic)",
    "MotionComicExtractPoses": "Extract Poses (motioncomic)",
    "MotionComicRetargetPoses": "Retarget Poses (motioncomic)",
}
