"""Open-Sora Options: the family-specific settings of Image to Video for ST-DiT models."""
from __future__ import annotations

from ._common import I2V_OPTIONS
from ._schema import Boolean, Combo, Float, Node, Out

RESOLUTIONS = ["144p", "240p", "360p", "480p", "720p", "1080p"]
CAMERA = ["none", "static", "pan left", "pan right", "tilt up", "tilt down", "zoom in", "zoom out"]


def build(resolution, cond_frames, aesthetic_score, motion_score, camera_motion, fps, clean_caption):
    return ({
        "resolution": resolution, "cond_frames": cond_frames,
        "aesthetic_score": aesthetic_score or None, "motion_score": motion_score or None,
        "camera_motion": camera_motion, "fps": float(fps), "clean_caption": bool(clean_caption),
    },)


NODES = [Node(
    "MotionComicOpenSoraOptions", "Open-Sora Options (motioncomic)",
    "Settings only Open-Sora ST-DiT has: the aspect-bucket resolution, which frames the image fixes (first, last "
    "or both for a loop), and the score suffixes the model was trained with. Connect to the 'options' input of "
    "Image to Video.",
    build,
    inputs=[
        Combo("resolution", RESOLUTIONS, "Bucket resolution; the bucket nearest the image's aspect (17 ratios) is "
              "used, the image is letterboxed into it. 480p 4 s needs ~30 GB on a GPU, 720p ~39 GB.", default="480p"),
        Combo("cond_frames", ["first", "last", "loop"], "Where the image goes: first frame (animate from it), last "
              "frame (animate towards it), or both (a loop).", default="first"),
        Float("aesthetic_score", "Appends 'aesthetic score: X.' to the caption (trained 4-7; upstream uses 6.5). "
              "0 = off.", default=6.5, min=0.0, max=10.0, step=0.1),
        Float("motion_score", "Appends 'motion score: X.' (optical-flow strength, about 1-10; higher = more "
              "motion). 0 = off (upstream default).", default=0.0, min=0.0, max=100.0, step=0.5),
        Combo("camera_motion", CAMERA, "Appends 'camera motion: X.'; none = no suffix.", default="none"),
        Float("fps", "Frame-rate conditioning of the model (trained at 24). The output clip is 24 fps.",
              default=24.0, min=1.0, max=120.0, step=1.0),
        Boolean("clean_caption", "Clean the caption as upstream does (lower case, no URLs/HTML/CJK, tidy "
                "punctuation). Write prompts in English.", default=True),
    ],
    outputs=[Out(I2V_OPTIONS, "options", "Open-Sora settings for Image to Video (ignored by other model families).")],
)]
