"""ComfyUI's core VIDEO type at our nodes' edges: a clip in as IMAGE + fps or as VIDEO, out as both.

A VIDEO is ComfyUI's ``VideoInput`` (from LoadVideo, CreateVideo, ...): ``get_components()`` gives
``images`` [N,H,W,3] float 0..1, ``audio`` (AUDIO dict or None) and ``frame_rate`` (Fraction). We
build ours with ``VideoFromComponents`` so they connect to SaveVideo / GetVideoComponents; outside
ComfyUI (tests, CLI) a small stand-in with the same ``get_components()`` is used.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any


@dataclass
class Clip:
    """Frames ``[N,H,W,3]`` float 0..1, their rate, and the AUDIO dict (or None) that goes with them."""

    frames: Any
    fps: float
    audio: dict | None = None


@dataclass
class Components:
    """Stand-in for ``comfy_api`` ``VideoComponents`` outside ComfyUI (same field names)."""

    images: Any
    frame_rate: Fraction
    audio: dict | None = None
    metadata: dict | None = None


@dataclass
class ComponentsVideo:
    """Stand-in for ``VideoFromComponents`` outside ComfyUI: only ``get_components`` / ``get_dimensions``."""

    components: Components

    def get_components(self) -> Components:
        return self.components

    def get_dimensions(self) -> tuple[int, int]:
        return int(self.components.images.shape[2]), int(self.components.images.shape[1])


def _check_frames(images: Any, where: str):
    """``images`` as one float tensor [N,H,W,3]; errors for none, mixed sizes or a wrong shape."""
    import torch

    from ..errors import MotionComicError

    if isinstance(images, (list, tuple)):  # a VideoInput may hand frames over one by one
        if not images:
            raise MotionComicError(f"{where}: the video has no frames")
        sizes = [tuple(f.shape[-3:-1]) for f in images]
        odd = next((i for i, s in enumerate(sizes) if s != sizes[0]), None)
        if odd is not None:
            (h0, w0), (h1, w1) = sizes[0], sizes[odd]
            raise MotionComicError(f"{where}: the video's frames differ in size (frame 0 is {w0}x{h0}, frame {odd} "
                                   f"is {w1}x{h1}); resize them to one size first (e.g. core 'Upscale Image').")
        images = torch.stack([f if f.ndim == 3 else f[0] for f in images])
    shape = tuple(getattr(images, "shape", ()))
    if not shape or shape[0] == 0:
        raise MotionComicError(f"{where}: the video has no frames")
    if len(shape) != 4 or shape[-1] not in (3, 4):
        raise MotionComicError(f"{where}: video frames must be [N,H,W,3], got shape {shape}")
    if isinstance(images, torch.Tensor):  # (lazy frame sources pass through as they are)
        return images[..., :3].float()
    return images


def check_video_fits(video: Any, where: str) -> None:
    """Refuse a file-backed core VIDEO (core Load Video: an uploaded file) whose decoded frames would
    not fit, from its container's size, duration and rate, before ``get_components()`` decodes it all.
    Videos already in memory, or containers that do not say, pass (the decoder then runs as before)."""
    if type(video).__name__ != "VideoFromFile":
        return
    try:
        import av

        width, height = video.get_dimensions()
        seconds = float(video.get_duration())
        source = video.get_stream_source()
        if hasattr(source, "seek"):
            source.seek(0)
        with av.open(source, mode="r") as container:
            rate = float(container.streams.video[0].average_rate or 0)
        if hasattr(source, "seek"):
            source.seek(0)
    except Exception:  # not knowable cheaply: decoding will tell
        return
    if rate > 0 and seconds > 0:
        from ..media.video import check_fits

        check_fits(int(seconds * rate) + 1, int(width), int(height), f"{where}: the video",
                   advice="Load a shorter or smaller clip (core Load Video has no frame cap: use our Load Video "
                          "with frame_load_cap, or trim the file).")


def clip_in(images: Any, fps: float | None, video: Any, where: str) -> Clip:
    """The clip from either an IMAGE batch + fps or a VIDEO (exactly one of ``images`` / ``video``)."""
    from ..errors import MotionComicError

    if video is not None and images is not None:
        raise MotionComicError(f"{where}: connect either 'images' or 'video', not both")
    if video is None:
        if images is None:
            raise MotionComicError(f"{where}: connect the clip to 'images' (IMAGE) or to 'video' (VIDEO, e.g. from "
                                   "core Load Video)")
        return Clip(_check_frames(images, where), float(fps or 0.0), None)
    if not hasattr(video, "get_components"):
        raise MotionComicError(f"{where}: 'video' must be a ComfyUI VIDEO, got {type(video).__name__}")
    check_video_fits(video, where)
    try:
        parts = video.get_components()
    except MotionComicError:
        raise
    except Exception as exc:  # a file that does not decode
        raise MotionComicError(f"{where}: cannot decode the video: {exc}") from exc
    rate = float(parts.frame_rate or 0)
    if not 0 < rate <= 1000:
        raise MotionComicError(f"{where}: the video's frame rate {rate:g} is not usable (expected 0 < fps <= 1000)")
    audio = getattr(parts, "audio", None)
    if audio is not None:
        from ..media.audio import waveform_of

        waveform_of(audio, where)  # malformed audio is refused here, not at the save three nodes later
    return Clip(_check_frames(parts.images, where), rate, audio)


def video_out(frames: Any, fps: float, audio: dict | None = None):
    """A VIDEO of ``frames`` at ``fps`` with ``audio`` (ComfyUI's ``VideoFromComponents`` when running in it)."""
    rate = Fraction(float(fps)).limit_denominator(1001)
    try:
        from comfy_api.latest import InputImpl, Types

        return InputImpl.VideoFromComponents(Types.VideoComponents(images=frames, audio=audio, frame_rate=rate))
    except Exception:
        pass
    try:  # ComfyUI before the current schema (0.3.47)
        from comfy_api.input_impl import VideoFromComponents
        from comfy_api.util import VideoComponents

        return VideoFromComponents(VideoComponents(images=frames, audio=audio, frame_rate=rate))
    except Exception:
        return ComponentsVideo(Components(images=frames, frame_rate=rate, audio=audio))
