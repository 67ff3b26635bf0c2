"""Pose to Video: reference image + pose images -> frames at the driving frame rate (MimicMotion)."""
from __future__ import annotations

from ._common import CATEGORY, VIDEO_MODEL, tip


class MotionComicPoseToVideo:
    DESCRIPTION = ("The character of the reference image performs the motion of the pose images (MimicMotion). "
                   "Reference and poses are letterboxed with one plan (no stretching, no cropping) and the frames "
                   "are cropped back to the character. Any length: overlapping tiles, memory flat in length. Frames "
                   "skipped by the sample stride are filled by the optical-flow interpolator, so the clip keeps "
                   "the driving frame rate.")
    CATEGORY = CATEGORY
    FUNCTION = "generate"
    RETURN_TYPES = ("IMAGE", "FLOAT", "STRING")
    RETURN_NAMES = ("frames", "fps", "report")
    OUTPUT_TOOLTIPS = ("One frame per pose image, cropped to the character.",
                       "The driving frame rate (driving_fps / sample_stride with fill 'none').",
                       "What was done: framing, tiles, settings.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": (VIDEO_MODEL, tip("A model from Load MimicMotion.")),
                "reference_image": ("IMAGE", tip("The character to animate (any size; alpha composited over black).")),
                "pose_images": ("IMAGE", tip("Rendered poses, one per driving frame, at the reference image's size "
                                             "(as Retarget Poses renders them) or at the letterboxed frame.")),
                "driving_fps": ("FLOAT", tip("Frame rate of the driving video; the output keeps it.", default=30.0,
                                             min=1.0, max=240.0, step=0.001)),
                "seed": ("INT", tip("Random seed; same seed + settings = same video.", default=42, min=0,
                                    max=0xFFFFFFFFFFFFFFFF)),
                "steps": ("INT", tip("Denoising steps (official 25).", default=25, min=1, max=200)),
                "cfg": ("FLOAT", tip("Guidance (official 2.0 for every frame).", default=2.0, min=1.0, max=20.0,
                                     step=0.1)),
                "resolution": ("INT", tip("Short side of the model frame, multiple of 64 (official 576); the long "
                                          "side follows the reference, up to 1024.", default=576, min=64, max=1024,
                                          step=64)),
                "sample_stride": ("INT", tip("Use every n-th pose (official 2); 1 generates every frame (2x the "
                                             "GPU time).", default=2, min=1, max=8)),
                "fill": (["flow", "crossfade", "none"], tip("How skipped frames come back: flow interpolator, "
                                                            "crossfade, or none (fewer frames at driving_fps / stride, "
                                                            "for an Interpolate node).", default="flow")),
                "tile_frames": ("INT", tip("Frames per tile; 0 = the model version's (72 for 1.1, 16 for 1.0). "
                                           "Lower it to save GPU memory.", default=0, min=0, max=256)),
                "tile_overlap": ("INT", tip("Frames shared by neighbouring tiles (official 6).", default=6, min=0,
                                            max=64)),
                "noise_aug_strength": ("FLOAT", tip("Noise added to the reference before encoding (official 0).",
                                                    default=0.0, min=0.0, max=1.0, step=0.01)),
            },
            "optional": {
                "reference_pose": ("IMAGE", tip("The pose of the reference image itself (first frame of MimicMotion's "
                                                "conditioning). Without it the first driving pose is used.")),
            },
        }

    def generate(self, model, reference_image, pose_images, driving_fps, seed, steps, cfg, resolution, sample_stride,
                 fill, tile_frames, tile_overlap, noise_aug_strength, reference_pose=None):
        from ..samplers.mimicmotion import pose_to_video

        opts = {"sample_stride": sample_stride, "fill": fill, "tile_frames": tile_frames, "tile_overlap": tile_overlap,
                "noise_aug_strength": noise_aug_strength}
        res = pose_to_video(model, reference_image, pose_images, reference_pose=reference_pose, resolution=resolution,
                            fps=driving_fps, seed=seed, steps=steps, cfg=cfg, options=opts)
        return (res.frames, res.fps, "\n".join(res.report))


NODE_CLASS_MAPPINGS = {"MotionComicPoseToVideo": MotionComicPoseToVideo}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicPoseToVideo": "Pose to Video (motioncomic)"}
