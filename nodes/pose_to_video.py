"""Pose to Video: reference image + pose images -> frames at the driving frame rate (MimicMotion)."""
from __future__ import annotations

from ._common import VIDEO_MODEL
from ._schema import Combo, Custom, Float, Image, Int, Node, Out


def generate(model, reference_image, pose_images, driving_fps, seed, steps, cfg, resolution, sample_stride, fill,
             tile_frames, tile_overlap, noise_aug_strength, reference_pose):
    from ..samplers.mimicmotion import pose_to_video

    opts = {"sample_stride": sample_stride, "fill": fill, "tile_frames": tile_frames, "tile_overlap": tile_overlap,
            "noise_aug_strength": noise_aug_strength}
    res = pose_to_video(model, reference_image, pose_images, reference_pose=reference_pose, resolution=resolution,
                        fps=driving_fps, seed=seed, steps=steps, cfg=cfg, options=opts)
    return (res.frames, res.fps, "\n".join(res.report))


NODES = [Node(
    "MotionComicPoseToVideo", "Pose to Video (motioncomic)",
    "The character of the reference image performs the motion of the pose images (MimicMotion). Reference and poses "
    "are letterboxed with one plan (no stretching, no cropping) and the frames are cropped back to the character. "
    "Any length: overlapping tiles, memory flat in length. Frames skipped by the sample stride are filled by the "
    "optical-flow interpolator, so the clip keeps the driving frame rate.",
    generate,
    inputs=[
        Custom("model", VIDEO_MODEL, "A model from Load MimicMotion."),
        Image("reference_image", "The character to animate (any size; alpha composited over black)."),
        Image("pose_images", "Rendered poses, one per driving frame, at the reference image's size (as Retarget "
              "Poses renders them) or at the letterboxed frame."),
        Float("driving_fps", "Frame rate of the driving video; the output keeps it.", default=30.0, min=1.0,
              max=240.0, step=0.001),
        Int("seed", "Random seed; same seed + settings = same video.", default=42, min=0, max=0xFFFFFFFFFFFFFFFF),
        Int("steps", "Denoising steps (official 25).", default=25, min=1, max=200),
        Float("cfg", "Guidance (official 2.0 for every frame).", default=2.0, min=1.0, max=20.0, step=0.1),
        Int("resolution", "Short side of the model frame, multiple of 64 (official 576); the long side follows the "
            "reference, up to 1024.", default=576, min=64, max=1024, step=64),
        Int("sample_stride", "Use every n-th pose (official 2); 1 generates every frame (2x the GPU time).",
            default=2, min=1, max=8),
        Combo("fill", ["flow", "crossfade", "none"], "How skipped frames come back: flow interpolator, crossfade, or "
              "none (fewer frames at driving_fps / stride, for an Interpolate node).", default="flow"),
        Int("tile_frames", "Frames per tile; 0 = the model version's (72 for 1.1, 16 for 1.0). Lower it to save GPU "
            "memory.", default=0, min=0, max=256),
        Int("tile_overlap", "Frames shared by neighbouring tiles (official 6).", default=6, min=0, max=64),
        Float("noise_aug_strength", "Noise added to the reference before encoding (official 0).", default=0.0,
              min=0.0, max=1.0, step=0.01),
        Image("reference_pose", "The pose of the reference image itself (first frame of MimicMotion's "
              "conditioning). Without it the first driving pose is used.", optional=True),
    ],
    outputs=[
        Out("IMAGE", "frames", "One frame per pose image, cropped to the character."),
        Out("FLOAT", "fps", "The driving frame rate (driving_fps / sample_stride with fill 'none')."),
        Out("STRING", "report", "What was done: framing, tiles, settings."),
    ],
)]
