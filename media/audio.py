"""Audio beside a clip: ComfyUI's AUDIO value checked, its fit to the frames described, raw PCM for
ffmpeg to mux, and the audio of a written file read back (tests, checks).

ComfyUI's AUDIO is ``{"waveform": Tensor [B, C, S] float in -1..1, "sample_rate": int}``. A clip's
audio is carried unchanged through face restore and interpolation (interpolation keeps the
duration: more frames at a proportionally higher rate). When a file is written, audio longer than
the frames is cut at the last frame and shorter audio is padded with silence, so the file's
duration is the frames' duration; ``fit_note`` says which happened.
"""
from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MotionComicError

log = logging.getLogger(__name__)

#: Audio codecs per container that can hold audio; webp and gif cannot.
AUDIO_CODECS = {"mp4": ["-c:a", "aac", "-b:a", "192k"], "webm": ["-c:a", "libopus", "-b:a", "128k"]}
MAX_CHANNELS = 8


def waveform_of(audio: Any, where: str = "audio") -> tuple[np.ndarray, int] | None:
    """``(samples [C, S] float32, sample_rate)`` of a ComfyUI AUDIO value (first item of a batch),
    or None for no audio. Raises MotionComicError naming ``where`` for a malformed value."""
    if audio is None:
        return None
    try:
        wave, rate = audio["waveform"], int(audio["sample_rate"])
    except (TypeError, KeyError, ValueError) as exc:
        raise MotionComicError(f"{where}: expected ComfyUI AUDIO ({{'waveform': [B, C, S], 'sample_rate': int}}), "
                               f"got {type(audio).__name__}") from exc
    a = wave.detach().cpu().float().numpy() if hasattr(wave, "detach") else np.asarray(wave, np.float32)
    if a.ndim == 3:
        if a.shape[0] > 1:
            log.warning("%s: %d audio tracks in the batch; the first is used", where, a.shape[0])
        a = a[0]
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2 or not 1 <= a.shape[0] <= MAX_CHANNELS:
        raise MotionComicError(f"{where}: audio waveform must be [B, C, S] with 1..{MAX_CHANNELS} channels, "
                               f"got shape {tuple(np.shape(wave))}")
    if not 1000 <= rate <= 384000:
        raise MotionComicError(f"{where}: audio sample rate {rate} Hz is outside 1000..384000")
    if a.shape[1] == 0:
        return None
    if not np.isfinite(a).all():
        raise MotionComicError(f"{where}: the audio has NaN or infinite samples")
    return np.ascontiguousarray(a, dtype=np.float32), rate


def fit_note(samples: int, rate: int, frames: int, fps: float) -> str | None:
    """What writing ``samples`` of audio beside ``frames`` at ``fps`` does to it, or None if they match
    (within one frame)."""
    audio_s, video_s = samples / rate, frames / fps
    if abs(audio_s - video_s) <= 1.0 / fps:
        return None
    if audio_s > video_s:
        return f"audio is {audio_s:.2f} s, the frames {video_s:.2f} s: the audio is cut at the last frame"
    return f"audio is {audio_s:.2f} s, the frames {video_s:.2f} s: the rest is filled with silence"


def fit_audio(samples: np.ndarray, rate: int, frames: int, fps: float) -> np.ndarray:
    """``samples`` [C, S] cut or padded with silence to exactly ``frames / fps`` seconds."""
    want = int(round(frames / float(fps) * rate))
    have = samples.shape[1]
    if have >= want:
        return samples[:, :want]
    return np.concatenate([samples, np.zeros((samples.shape[0], want - have), samples.dtype)], axis=1)


def ffmpeg_input(path: Path, samples: np.ndarray, rate: int) -> list[str]:
    """Write ``samples`` [C, S] as raw float32 to ``path``; the ffmpeg arguments that read it back."""
    try:
        np.ascontiguousarray(samples.T, dtype="<f4").tofile(path)
    except OSError as exc:
        raise MotionComicError(f"cannot write the audio beside the video in {path.parent}: {exc}") from exc
    return ["-f", "f32le", "-ar", str(rate), "-ac", str(samples.shape[0]), "-i", str(path)]


def read_audio(path: str | Path) -> tuple[np.ndarray, int] | None:
    """The first audio stream of a file as ``(samples [C, S] float32, sample_rate)``, None if it has none."""
    from .video import ffmpeg_exe

    p = Path(path)
    info = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(p)], capture_output=True, text=True).stderr
    m = re.search(r"Audio: .*?(\d+) Hz, (mono|stereo|(\d+) channels|[^,]+)", info)
    if m is None:
        return None
    rate = int(m.group(1))
    channels = {"mono": 1, "stereo": 2}.get(m.group(2)) or int(m.group(3) or 2)
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(p), "-map", "0:a:0",
                          "-f", "f32le", "-ac", str(channels), "-ar", str(rate), "-"], capture_output=True)
    if out.returncode != 0:
        raise MotionComicError(f"cannot decode the audio of {p.name}: {out.stderr.decode(errors='replace')[-400:]}")
    data = np.frombuffer(out.stdout, dtype="<f4")
    return data.reshape(-1, channels).T.copy(), rate
