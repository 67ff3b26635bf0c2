"""Shared bits for node declarations: custom type names. How to write a node: ``nodes/_schema.py``."""
from __future__ import annotations

#: Custom ComfyUI types passed between our nodes.
VIDEO_MODEL = "MOTIONCOMIC_VIDEO_MODEL"
INTERPOLATOR = "MOTIONCOMIC_INTERPOLATOR"
FACE_MODELS = "MOTIONCOMIC_FACE_MODELS"
FRAME_PLAN = "MOTIONCOMIC_FRAME_PLAN"  # samplers.framing.FramePlan
DWPOSE = "MOTIONCOMIC_DWPOSE"
POSES = "MOTIONCOMIC_POSES"
#: Family-specific settings for Image to Video (e.g. from Open-Sora Options).
I2V_OPTIONS = "MOTIONCOMIC_I2V_OPTIONS"
