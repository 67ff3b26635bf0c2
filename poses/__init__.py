"""Pose keypoints: DWPose extraction (ONNX), retargeting onto the reference character, pose images.

The chain a pose-driven engine (MimicMotion) consumes::

    models = files.open_dwpose(files.resolve("yolox_l.onnx"), files.resolve("dw-ll_ucoco_384.onnx"))
    ref = extract.extract_image(models, reference_image)                  # Poses, N=1, reference pixels
    drv = extract.extract_frames(models, frames, mode="track", fps=fps)    # Poses, N frames, video pixels
    moved = retarget.retarget(ref, drv, retarget.RetargetOptions())       # Poses at the reference's size
    plan = samplers.framing.plan_frame(ref.size, (576, 1024), "pad")      # the reference's letterbox
    images = pose_images(moved, plan)                                     # torch [N, 576, 1024, 3] 0..1

``pose_images(..., indices=range(a, b))`` renders one tile at a time (memory flat in clip length).
"""
from __future__ import annotations

from typing import Iterable

from .keypoints import Poses


def pose_images(poses: Poses, plan, style: str = "mimicmotion", indices: Iterable[int] | None = None):
    """Pose images in the model frame: ``poses`` (at ``plan.source``, e.g. retargeted onto the
    reference) mapped through the letterbox ``plan`` and drawn at ``plan.frame``.

    Returns float32 torch ``[len(indices) or N, frame_h, frame_w, 3]`` in 0..1 (ComfyUI IMAGE).
    """
    from .align import to_frame
    from .render import render_poses

    return render_poses(to_frame(poses, plan), style, indices)
