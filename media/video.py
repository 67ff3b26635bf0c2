"""Write frames to mp4 / webm / animated webp / gif and read videos back, through the real ffmpeg.

The ffmpeg binary is the one bundled with ``imageio-ffmpeg`` (x264, libvpx-vp9, libwebp, gif).
Frames are streamed to ffmpeg's stdin as raw ``rgb24`` one at a time, so a long clip never exists
as one big uint8 array. Files are written under a hidden temporary name in the target folder and
renamed on success; on an error or a cancel the partial file is removed, so a half-written file is
never reported as output.

Sizes: H.264 and VP9 in ``yuv420p`` need even width and height. Odd sizes are **padded** by one
pixel (the last row/column repeated) rather than cropped, so no content is lost. Animated webp and
gif keep the exact size.
"""
from __future__ import annotations

import logging
import os
import subprocess
import threading
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from .. import host
from ..errors import MotionComicError
from .audio import AUDIO_CODECS, ffmpeg_input as audio_input, fit_audio
from .metadata import ffmetadata_text, scrub_secrets

log = logging.getLogger(__name__)

#: Container formats we write, with their file extension.
FORMATS: dict[str, str] = {"mp4": ".mp4", "webm": ".webm", "webp": ".webp", "gif": ".gif"}
#: Default quality settings: crf for mp4 (0..51) / webm (0..63), quality 0..100 for webp.
DEFAULT_CRF = {"mp4": 19, "webm": 24}
DEFAULT_QUALITY = 90


def ffmpeg_exe() -> str:
    """Path of imageio-ffmpeg's bundled ffmpeg binary."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - it is a requirement
        raise MotionComicError("imageio-ffmpeg is not installed: pip install imageio-ffmpeg") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def format_for(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The container format: ``fmt`` if given, else from the file extension."""
    if fmt:
        fmt = fmt.lower().lstrip(".")
    else:
        fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise MotionComicError(
            f"unsupported video format {fmt!r} for {os.fspath(path)!r}: use one of {', '.join(FORMATS)}"
        )
    return fmt


def _rate(fps: float) -> str:
    if not (fps > 0 and np.isfinite(fps)):
        raise MotionComicError(f"fps must be a positive number, got {fps!r}")
    r = Fraction(float(fps)).limit_denominator(1001)
    return f"{r.numerator}/{r.denominator}"


def to_uint8_frame(frame: Any) -> np.ndarray:
    """One frame ``[H,W,C]`` (float 0..1, or uint8; numpy or torch; C = 1, 3 or 4) → uint8 RGB."""
    if hasattr(frame, "detach"):
        frame = frame.detach().to("cpu").float().numpy()
    a = np.asarray(frame)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3, 4):
        raise MotionComicError(f"a frame must be [H,W,3] (or 1/4 channels), got shape {tuple(a.shape)}")
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    elif a.shape[-1] == 4:
        a = a[..., :3]
    if a.dtype != np.uint8:
        a = np.clip(np.nan_to_num(a.astype(np.float32)) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def _encoder_args(fmt: str, crf: int | None, quality: int | None, loop: int) -> list[str]:
    if fmt == "mp4":
        c = int(np.clip(DEFAULT_CRF["mp4"] if crf is None else crf, 0, 51))
        return ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", str(c), "-preset", "medium",
                "-vf", "scale=out_color_matrix=bt709:out_range=tv", "-colorspace", "bt709",
                "-color_primaries", "bt709", "-color_trc", "bt709",
                "-movflags", "+faststart+use_metadata_tags", "-f", "mp4"]
    if fmt == "webm":
        c = int(np.clip(DEFAULT_CRF["webm"] if crf is None else crf, 0, 63))
        return ["-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p", "-crf", str(c), "-b:v", "0",
                "-deadline", "good", "-cpu-used", "4", "-row-mt", "1", "-f", "webm"]
    if fmt == "webp":
        q = int(np.clip(DEFAULT_QUALITY if quality is None else quality, 0, 100))
        extra = ["-lossless", "1"] if q >= 100 else ["-lossless", "0", "-quality", str(q)]
        return ["-c:v", "libwebp_anim", *extra, "-loop", str(loop), "-f", "webp"]
    # gif: one palette for the clip (computed by ffmpeg over all frames), light ordered dithering
    return ["-filter_complex", "split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=3",
            "-loop", str(loop), "-f", "gif"]


class VideoWriter:
    """Stream frames into a video file through ffmpeg.

    ``with VideoWriter(path, fps) as w: w.write(frame) ...`` — the file appears at ``path`` only
    when the block ends without an exception. ``metadata`` (str → str or JSON-able) is scrubbed of
    secrets and written where the container supports it (mp4, webm; not webp/gif). ``audio``
    (``(samples [C, S] float32, sample_rate)``) is muxed into mp4 (AAC) and webm (Opus) as given
    (``write_video`` first fits it to the frames' duration); webp/gif cannot hold it.
    """

    def __init__(self, path: str | os.PathLike, fps: float, fmt: str | None = None, *,
                 crf: int | None = None, quality: int | None = None,
                 metadata: dict[str, Any] | None = None, loop: int = 0,
                 audio: tuple[np.ndarray, int] | None = None):
        self.path = Path(path)
        self.fmt = format_for(self.path, fmt)
        self.fps = float(fps)
        self._rate = _rate(self.fps)
        self.crf, self.quality, self.loop = crf, quality, loop
        self.metadata = scrub_secrets(metadata or {}) if self.fmt in ("mp4", "webm") else {}
        self.frames = 0
        self.size: tuple[int, int] | None = None  # (H, W) of the input frames
        self._proc: subprocess.Popen | None = None
        self._stderr: list[bytes] = []
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MotionComicError(f"cannot create the output folder {folder}: {exc.strerror or exc}. "
                                   "Choose a writable folder.") from exc
        if not os.access(folder, os.W_OK):
            raise MotionComicError(f"the output folder {folder} is not writable. Choose a writable folder.")
        self._tmp = folder / f".{self.path.stem}.partial-{os.getpid()}-{threading.get_ident()}{self.path.suffix}"
        self._meta_file = folder / f"{self._tmp.name}.ffmeta" if self.metadata else None
        if audio is not None and self.fmt not in AUDIO_CODECS:
            raise MotionComicError(f"{self.fmt} cannot hold audio: choose mp4 or webm to keep the sound")
        self.audio = audio
        self._audio_file = folder / f"{self._tmp.name}.f32" if audio is not None else None

    # ------------------------------------------------------------------ lifecycle
    def _start(self, h: int, w: int) -> None:
        self.size = (h, w)
        pad = self.fmt in ("mp4", "webm")
        self._out_hw = (h + (h % 2), w + (w % 2)) if pad else (h, w)
        oh, ow = self._out_hw
        cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{ow}x{oh}", "-r", self._rate, "-i", "-"]
        maps, n_inputs = [], 1
        if self._meta_file is not None:
            try:
                self._meta_file.write_text(ffmetadata_text(self.metadata), encoding="utf-8")
            except OSError as exc:
                raise MotionComicError(f"cannot write into {self.path.parent}: {exc}") from exc
            cmd += ["-f", "ffmetadata", "-i", str(self._meta_file)]
            maps += ["-map_metadata", str(n_inputs), "-map", "0:v"]
            n_inputs += 1
        if self._audio_file is not None:
            cmd += audio_input(self._audio_file, *self.audio)
            maps += ([] if "0:v" in maps else ["-map", "0:v"]) + ["-map", f"{n_inputs}:a"]
            maps += AUDIO_CODECS[self.fmt]
        cmd += maps + _encoder_args(self.fmt, self.crf, self.quality, self.loop)
        cmd += ["-r", self._rate, str(self._tmp)]
        log.debug("ffmpeg: %s", " ".join(cmd))
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line)

    def write(self, frame: Any) -> None:
        """Append one frame ``[H,W,C]`` (or a batch ``[N,H,W,C]``, written frame by frame)."""
        shape = getattr(frame, "shape", None)
        if shape is not None and len(shape) == 4:
            for f in frame:
                self.write(f)
            return
        a = to_uint8_frame(frame)
        h, w = a.shape[:2]
        if self._proc is None:
            self._start(h, w)
        elif (h, w) != self.size:
            raise MotionComicError(f"frame {self.frames} is {w}x{h}, the video is {self.size[1]}x{self.size[0]}: "
                                   "all frames of a clip must have the same size")
        oh, ow = self._out_hw
        if (oh, ow) != (h, w):
            a = np.pad(a, ((0, oh - h), (0, ow - w), (0, 0)), mode="edge")
        try:
            self._proc.stdin.write(a.tobytes())
        except (BrokenPipeError, OSError) as exc:
            raise MotionComicError(f"ffmpeg stopped while writing {self.path.name}: {self._error_text()}") from exc
        self.frames += 1

    def _error_text(self) -> str:
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        return b"".join(self._stderr).decode("utf-8", "replace").strip()[-800:] or "no message"

    def close(self) -> Path:
        """Finish the file and move it into place; returns the final path."""
        if self._proc is None:
            self._cleanup()
            raise MotionComicError("no frames to write: the image batch is empty")
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        rc = self._proc.wait()
        if rc != 0 or not self._tmp.exists():
            msg = self._error_text()
            self._cleanup()
            raise MotionComicError(f"ffmpeg failed writing {self.path.name} (exit {rc}): {msg}")
        for side in (self._meta_file, self._audio_file):
            if side is not None:
                side.unlink(missing_ok=True)
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Stop ffmpeg and remove the partial file."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
        self._cleanup()

    def _cleanup(self) -> None:
        self._tmp.unlink(missing_ok=True)
        for side in (self._meta_file, self._audio_file):
            if side is not None:
                side.unlink(missing_ok=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(frames: Iterable[Any], path: str | os.PathLike, fps: float, fmt: str | None = None, *,
                crf: int | None = None, quality: int | None = None,
                metadata: dict[str, Any] | None = None, loop: int = 0, progress: bool = True,
                audio: tuple[np.ndarray, int] | None = None) -> Path:
    """Write ``frames`` (``[N,H,W,3]`` float 0..1 / uint8, or any iterable of ``[H,W,3]`` frames),
    with ``audio`` (``(samples [C, S], sample_rate)``, mp4/webm only) muxed in when given.

    Honours cancel between frames (``host.check_cancel``); on cancel or error no file is left.
    Returns the written path.
    """
    total = len(frames) if hasattr(frames, "__len__") else 0
    if audio is not None and total:
        audio = (fit_audio(audio[0], audio[1], total, fps), audio[1])
    bar = host.Progress(total, f"encode {Path(path).name}") if progress and total else None
    w = VideoWriter(path, fps, fmt, crf=crf, quality=quality, metadata=metadata, loop=loop, audio=audio)
    with w:
        for f in frames:
            w.write(f)
            if bar is not None:
                bar.step()
            else:
                host.check_cancel()
    return w.path


# --------------------------------------------------------------------------- reading
def iter_video(path: str | os.PathLike, *, skip_first: int = 0, every_nth: int = 1,
               max_frames: int = 0, size: tuple[int, int] | None = None) -> tuple[dict, Iterator[np.ndarray]]:
    """Open a video: returns ``(meta, frames)`` where frames yield uint8 ``[H,W,3]`` arrays.

    ``meta`` has ``fps`` (of the returned frames, i.e. divided by ``every_nth``), ``size`` (W, H),
    ``source_fps``, ``duration`` (seconds as the container states it; 0 when unknown) and
    ``frames`` (the count estimated from it; 0 when unknown).
    ``size`` (W, H): ffmpeg trims an odd last row/column and scales the frames to that size
    (Lanczos) in its own process; ``meta["size"]`` is then ``size``.
    """
    p = Path(path)
    if not p.is_file():
        raise MotionComicError(f"video file not found: {p}")
    if every_nth < 1 or skip_first < 0 or max_frames < 0:
        raise MotionComicError("every_nth must be >= 1, skip_first and max_frames >= 0")
    import imageio_ffmpeg

    # passthrough: one output frame per decoded frame (no duplication for variable-rate webp/gif)
    out = ["-fps_mode", "passthrough"]
    if size is not None:
        sw, sh = (int(v) for v in size)
        # scaling to the size it already has is a no-op for ffmpeg
        out += ["-vf", f"crop=trunc(iw/2)*2:trunc(ih/2)*2:0:0,scale={sw}:{sh}:flags=lanczos"]
    gen = imageio_ffmpeg.read_frames(str(p), pix_fmt="rgb24", output_params=out)
    ff_log = logging.getLogger("imageio_ffmpeg")
    level = ff_log.level
    if size is not None:  # it warns that the size we asked for differs from the source's
        ff_log.setLevel(logging.ERROR)
    try:
        meta = next(gen)
    except (RuntimeError, OSError, StopIteration) as exc:
        gen.close()
        raise MotionComicError(f"cannot read {p.name} as a video: {exc}") from exc
    finally:
        ff_log.setLevel(level)
    w, h = meta["size"] if size is None else (int(size[0]), int(size[1]))
    fps = float(meta.get("fps") or 0)
    if not 0 < fps <= 240:  # ffmpeg could not estimate a rate (e.g. a 2-frame webp reports 1k)
        fps = _frame_duration_fps(p) or 24.0

    def frames() -> Iterator[np.ndarray]:
        n_out = 0
        try:
            for i, buf in enumerate(gen):
                if i < skip_first or (i - skip_first) % every_nth:
                    continue
                yield np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)
                n_out += 1
                if max_frames and n_out >= max_frames:
                    break
        finally:
            gen.close()

    duration = float(meta.get("duration") or 0)
    estimate = int(round(duration * fps)) if 0 < duration < 1e7 else 0  # from the container: may be off by a few
    return ({"fps": fps / every_nth, "source_fps": fps, "size": (w, h), "frames": estimate, "duration": duration},
            _Frames(frames(), gen))


class _Frames:
    """The frame iterator of :func:`iter_video`; ``close()`` stops ffmpeg even before the first frame."""

    def __init__(self, frames: Iterator[np.ndarray], gen):
        self._frames, self._gen = frames, gen

    def __iter__(self) -> "_Frames":
        return self

    def __next__(self) -> np.ndarray:
        return next(self._frames)

    def close(self) -> None:
        self._frames.close()
        self._gen.close()


def _frame_duration_fps(path: Path) -> float | None:
    """fps from the first frame's duration of an animated webp/gif (Pillow), None if unknown."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            ms = float(im.info.get("duration") or 0)
    except Exception:
        return None
    return 1000.0 / ms if ms > 0 else None


def available_memory() -> int:
    """Bytes of memory available to this process now (``MemAvailable``; physical memory elsewhere)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


#: Share of the available memory one decoded clip may take (the rest is for the models and copies).
MEMORY_SHARE = 0.5


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def check_fits(frames: int, width: int, height: int, name: str = "the clip", advice: str | None = None,
               device=None) -> None:
    """Refuse ``frames`` float32 frames of ``width`` x ``height`` that would not fit in half the memory
    available (host RAM, or the GPU's free memory for a CUDA ``device``). The message says how big
    and what to do: ``advice``, or by default the decoder's frame cap to set."""
    per_frame = width * height * 3 * 4
    free = available_memory()
    if device is not None and getattr(device, "type", str(device)).startswith("cuda"):
        import torch

        free = torch.cuda.mem_get_info(device)[0]
    budget = int(free * MEMORY_SHARE)
    if frames * per_frame > budget:
        cap = max(1, budget // per_frame)
        what = advice or (f"Set the frame cap (max_frames / frame_load_cap) to at most {cap}, skip frames "
                          "(every_nth), or load a shorter or smaller clip.")
        raise MotionComicError(
            f"{name} has about {frames} frames of {width}x{height}: as float32 frames that is "
            f"{_size(frames * per_frame)}, more than half of the {_size(free)} of memory available. "
            + what.replace("{cap}", str(cap)))


def read_video(path: str | os.PathLike, *, skip_first: int = 0, every_nth: int = 1,
               max_frames: int = 0) -> tuple[np.ndarray, float]:
    """Decode a video into float32 frames ``[N,H,W,3]`` in 0..1 and its fps (after ``every_nth``).

    The frame count is estimated from the container first and refused when the frames would not fit
    in memory (:func:`check_fits`); frames are converted into one float32 buffer as they arrive (the
    clip is never held twice).
    """
    meta, it = iter_video(path, skip_first=skip_first, every_nth=every_nth, max_frames=max_frames)
    w, h = meta["size"]
    expected = meta.get("frames") or 0
    expected = max(0, expected - skip_first) // every_nth if expected else 0
    if max_frames:
        expected = min(expected, max_frames) if expected else max_frames
    if expected:
        check_fits(expected, w, h, Path(path).name)
    out = np.empty((max(expected, 1), h, w, 3), dtype=np.float32)
    n = 0
    for f in it:
        if n == len(out):  # the container under-reported its length: grow by a quarter, re-checked
            check_fits(n + max(1, n // 4), w, h, Path(path).name)
            out = np.concatenate([out, np.empty((max(1, n // 4), h, w, 3), np.float32)])
        np.multiply(f, 1.0 / 255.0, out=out[n], dtype=np.float32)
        n += 1
        host.check_cancel()
    if not n:
        raise MotionComicError(f"no frames read from {Path(path).name} (skip_first={skip_first} too large?)")
    return out[:n], meta["fps"]


def probe_video(path: str | os.PathLike) -> dict:
    """Frame count, size (W, H) and fps of a video file (decodes it fully; for tests and checks)."""
    meta, it = iter_video(path)
    n = sum(1 for _ in it)
    return {"frames": n, "size": meta["size"], "fps": meta["fps"]}
