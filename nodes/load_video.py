"""Load Video: a clip from ComfyUI's input folder → IMAGE frames + fps (for the post-only chain)."""
from __future__ import annotations

import os

from ._schema import Combo, Int, Node, Out

VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".mov", ".avi", ".gif", ".webp", ".m4v")


def _input_videos() -> list[str]:
    from .. import host

    return host.list_input_files(VIDEO_EXTENSIONS)


def _resolve(name: str):
    from .. import host

    return host.find_input(name, "video")


def changed(video, **_kw):
    try:
        return os.path.getmtime(_resolve(video))
    except Exception:
        return float("nan")


def validate(video):
    try:
        _resolve(video)
    except ValueError as exc:
        return str(exc)
    return True


def load(video, frame_load_cap=0, skip_first_frames=0, select_every_nth=1):
    """Decode a video (mp4, webm, mkv, mov, gif, webp ...) into frames ``[N,H,W,3]`` float 0..1."""
    import torch

    from ..media.video import read_video

    frames, fps = read_video(_resolve(video), skip_first=skip_first_frames, every_nth=select_every_nth,
                             max_frames=frame_load_cap)
    return (torch.from_numpy(frames), float(fps), int(frames.shape[0]))


NODES = [Node(
    "MotionComicLoadVideo", "Load Video (motioncomic)",
    "Loads a video from the input folder as frames and its frame rate (ffmpeg).",
    load,
    inputs=[
        Combo("video", _input_videos, "A video file in ComfyUI's input folder.", upload="video"),
        Int("frame_load_cap", "Maximum frames to load (0 = all). Long clips use a lot of RAM: about W*H*12 bytes "
            "per frame.", default=0, min=0, max=100000),
        Int("skip_first_frames", "Frames to skip at the start.", default=0, min=0, max=100000),
        Int("select_every_nth", "Keep every n-th frame (the fps output is divided by n).",
            default=1, min=1, max=1000),
    ],
    outputs=[
        Out("IMAGE", "images", "The frames."),
        Out("FLOAT", "fps", "Frame rate of the returned frames (source fps / select_every_nth)."),
        Out("INT", "frame_count", "Number of frames returned."),
    ],
    validate=validate, fingerprint=changed,
)]
