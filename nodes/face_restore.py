"""Face Restore: frames + reference image + face models -> restored frames and a debug batch."""
from __future__ import annotations

from ._common import FACE_MODELS
from ._schema import Boolean, Combo, Custom, Float, Image, Int, Node, Out
from ._video import clip_in, video_out


def restore(images, face_models, swap_strength, enhance_strength, codeformer_fidelity, mask_blur, mask_padding,
            threshold, faces, tracking, detect_every, smoothing, crop_scale, debug_output, reference_image, fps, video):
    import numpy as np
    import torch

    from ..faces.pipeline import FaceOptions, restore_clip

    clip = clip_in(images, fps, video, "Face Restore")
    frames = clip.frames.detach().cpu().numpy()
    reference = None
    if reference_image is not None:
        reference = reference_image[0].detach().cpu().float().numpy()[..., :3]
    pad = float(mask_padding)
    options = FaceOptions(threshold=threshold, swap_blend=swap_strength, enhance_blend=enhance_strength,
                          fidelity=codeformer_fidelity, mask_blur=mask_blur, mask_padding=(pad, pad, pad, pad),
                          box_expand=crop_scale, faces=faces, tracking=tracking, detect_every=detect_every,
                          smoothing=smoothing, debug=bool(debug_output))
    out, debug, _report = restore_clip(np.ascontiguousarray(frames[..., :3]), reference, face_models, options)
    if not len(debug):
        debug = np.zeros((1,) + out.shape[1:], np.float32)
    restored = torch.from_numpy(out)
    return (restored, torch.from_numpy(debug), video_out(restored, clip.fps, clip.audio))


NODES = [Node(
    "MotionComicFaceRestore", "Face Restore (motioncomic)",
    "Restores the character's face in every frame from the reference image (FaceFusion-style: swap, then enhance, "
    "pasted back through a feathered mask). Frames without a face pass through unchanged.",
    restore,
    inputs=[
        Image("images", "The clip's frames (or connect 'video' instead).", optional=True),
        Custom("face_models", FACE_MODELS, "From Load Face Models."),
        Float("swap_strength", "How much of the swapped face is kept (0 = none, 1 = all).",
              default=1.0, min=0.0, max=1.0, step=0.05),
        Float("enhance_strength", "How much of the enhanced face is kept (0 = none, 1 = all).",
              default=1.0, min=0.0, max=1.0, step=0.05),
        Float("codeformer_fidelity", "CodeFormer only: 0 = strongest restoration, 1 = most faithful to the frame.",
              default=0.7, min=0.0, max=1.0, step=0.05),
        Float("mask_blur", "Feather width of the paste mask (0 = hard edge).", default=0.3, min=0.0, max=1.0,
              step=0.05),
        Int("mask_padding", "Cut the paste mask in from every side, in percent of the face crop.",
            default=0, min=0, max=45),
        Float("threshold", "Detector score threshold (lower finds more, and more false faces).",
              default=0.5, min=0.05, max=0.99, step=0.01),
        Combo("faces", ["all", "largest"], "Restore every face, or only the largest track.", default="all"),
        Boolean("tracking", "Track faces over the clip: detector on key frames only, boxes smoothed (no jitter). "
                "Off = detect every frame, no smoothing.", default=True),
        Int("detect_every", "With tracking: run the detector every n frames (more where faces appear, leave or "
            "move fast).", default=5, min=1, max=60),
        Float("smoothing", "With tracking: temporal smoothing of boxes/landmarks, in frames.",
              default=2.0, min=0.0, max=10.0, step=0.5),
        Float("crop_scale", "Faces without landmarks (anime detectors): crop side relative to the detected box. "
              "0 = per-model default.", default=0.0, min=0.0, max=4.0, step=0.05),
        Boolean("debug_output", "Draw boxes, landmarks and masks on every frame for the debug output. Off = the "
                "debug output is one black frame (saves a second copy of the clip in memory).", default=True),
        Image("reference_image", "The character image whose face identity is restored (first image of the batch). "
              "Needed for swapping; enhance-only works without.", optional=True),
        Float("fps", "Frame rate of 'images', for the video output. A connected video keeps its own rate.",
              default=8.0, min=0.1, max=240.0, step=0.1, optional=True),
        Custom("video", "VIDEO", "The clip as a core VIDEO (e.g. from core Load Video) instead of 'images'; its "
               "audio is carried to the video output unchanged.", optional=True),
    ],
    outputs=[
        Out("IMAGE", "images", "The frames with restored faces (same size and count)."),
        Out("IMAGE", "debug", "Each frame with the detected boxes (green), landmarks (yellow) and paste mask (red)."),
        Out("VIDEO", "video", "The restored frames as a core VIDEO with the input's frame rate and audio (for core "
            "Save Video / Create Video)."),
    ],
)]
