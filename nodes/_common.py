"""Shared bits for node classes: the category, custom type names, tensor conversions."""
from __future__ import annotations

CATEGORY = "motioncomic"

#: Custom ComfyUI types passed between our nodes.
VIDEO_MODEL = "MOTIONCOMIC_VIDEO_MODEL"
INTERPOLATOR = "MOTIONCOMIC_INTERPOLATOR"
FACE_MODELS = "MOTIONCOMIC_FACE_MODELS"
FRAME_PLAN = "MOTIONCOMIC_FRAME_PLAN"  # samplers.framing.FramePlan
DWPOSE = "MOTIONCOMIC_DWPOSE"
POSES = "MOTIONCOMIC_POSES"


def tip(text: str, **extra) -> dict:
    """Input options with a tooltip (every input of ours has one)."""
    return {"tooltip": text, **extra}
