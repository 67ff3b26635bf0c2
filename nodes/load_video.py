"""Load Video: a clip from ComfyUI's input folder → IMAGE frames + fps (for the post-only chain)."""
from __future__ import annotations

import os

from ._common import CATEGORY, tip

VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".mov", ".avi", ".gif", ".webp", ".m4v")


def _input_videos() -> list[str]:
    from .. import host

    root = host.input_dir()
    if not root.is_dir():
        return []
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if f.lower().endswith(VIDEO_EXTENSIONS) and not f.startswith("."):
                found.append(os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/"))
    return sorted(found)


def _resolve(name: str):
    from .. import host
    from ..errors import MotionComicError

    name = name.removesuffix(" [input]").strip()
    root = host.input_dir().resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise MotionComicError(f"video {name!r} must be inside the input folder {root}")
    if not path.is_file():
        raise MotionComicError(f"video {name!r} not found in the input folder {root}. "
                               "Upload it with the node's upload button or copy it there.")
    return path


class MotionComicLoadVideo:
    """Decode a video (mp4, webm, mkv, mov, gif, webp ...) into frames ``[N,H,W,3]`` float 0..1."""

    DESCRIPTION = "Loads a video from the input folder as frames and its frame rate (ffmpeg)."
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = ("IMAGE", "FLOAT", "INT")
    RETURN_NAMES = ("images", "fps", "frame_count")
    OUTPUT_TOOLTIPS = ("The frames.", "Frame rate of the returned frames (source fps / select_every_nth).",
                       "Number of frames returned.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "video": (_input_videos(), tip("A video file in ComfyUI's input folder.", video_upload=True)),
                "frame_load_cap": ("INT", tip("Maximum frames to load (0 = all). Long clips use a lot of RAM: "
                                              "about W*H*12 bytes per frame.", default=0, min=0, max=100000)),
                "skip_first_frames": ("INT", tip("Frames to skip at the start.", default=0, min=0, max=100000)),
                "select_every_nth": ("INT", tip("Keep every n-th frame (the fps output is divided by n).",
                                                default=1, min=1, max=1000)),
            }
        }

    @classmethod
    def IS_CHANGED(cls, video, **_kw):
        try:
            return os.path.getmtime(_resolve(video))
        except Exception:
            return float("nan")

    @classmethod
    def VALIDATE_INPUTS(cls, video):
        try:
            _resolve(video)
        except ValueError as exc:
            return str(exc)
        return True

    def load(self, video, frame_load_cap=0, skip_first_frames=0, select_every_nth=1):
        import torch

        from ..media.video import read_video

        frames, fps = read_video(_resolve(video), skip_first=skip_first_frames, every_nth=select_every_nth,
                                 max_frames=frame_load_cap)
        return (torch.from_numpy(frames), float(fps), int(frames.shape[0]))


NODE_CLASS_MAPPINGS = {"MotionComicLoadVideo": MotionComicLoadVideo}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicLoadVideo": "Load Video (motioncomic)"}
