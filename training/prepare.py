"""``prepare-dataset``: the studio's footage → fixed-length, high-motion, captioned training clips.

For every video: decode (streamed, real ffmpeg) → split at shot cuts (our detector) → cut each shot
into clips of ``frames`` frames at ``fps`` (``training/shots.py``) → drop clips with too little
motion → caption (``training/caption.py``) → write ``clips/<id>.mp4`` + ``clips/<id>.png`` and a
manifest line (``training/store.py``, layout in ``training/dataset.py``, docs in ``docs/dataset.md``).

A video ffmpeg cannot read is listed and skipped; every dropped clip is listed with its reason in
``rejected.jsonl``; a dataset that ends with no clip at all is an error that says why each was
dropped. Memory is bounded by one clip's frames whatever the length of the footage.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import host
from ..errors import MotionComicError
from ..interpolation.cuts import DEFAULT_THRESHOLD
from .caption import Captioner
from .dataset import CLIPS, ClipRecord
from .shots import ShortShot, Window, clip_size, cut_windows
from .store import DatasetStore

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".wmv",
                    ".gif", ".webp")


@dataclass(frozen=True)
class PrepareSettings:
    """How clips are cut (stored in ``dataset.json``; a rerun must use the same to resume).

    Attributes:
        frames: frames per clip, ``4k+1`` (the CogVideoX VAE compresses time by 4): 49 for
            CogVideoX 1.0, 81 for 1.5.
        fps: clip frame rate (8 for CogVideoX 1.0, 16 for 1.5); None = each video's own rate.
        max_side: clips are scaled down so their long side is at most this (0 = keep the size).
        min_motion: clips whose mean optical flow is below this (percent of the long side per
            frame) are dropped.
        cut_threshold: scene-cut threshold of ``interpolation/cuts.py`` (0..1).
        margin: clip-rate frames skipped after each cut and before the next (and at the ends).
        flow_side: long side of the thumbnails used for cuts and optical flow.
        crf: H.264 quality of the written clips (lower = better, bigger).
    """

    frames: int = 49
    fps: float | None = 8.0
    max_side: int = 720
    min_motion: float = 0.1
    cut_threshold: float = DEFAULT_THRESHOLD
    margin: int = 2
    flow_side: int = 256
    crf: int = 16

    def check(self) -> None:
        if self.frames < 5 or (self.frames - 1) % 4:
            lo = max(5, (self.frames - 1) // 4 * 4 + 1)
            raise MotionComicError(f"--frames {self.frames} is not possible: clips need 4k+1 frames (the "
                                   f"CogVideoX VAE compresses time by 4). Nearest valid: {lo}, {lo + 4} "
                                   "(49 for CogVideoX 1.0, 81 for 1.5)")
        if self.fps is not None and not (0 < self.fps <= 240):
            raise MotionComicError(f"--fps must be in (0, 240] or 'source', got {self.fps}")
        if self.max_side and self.max_side < 16:
            raise MotionComicError(f"--max-side must be 0 (keep) or >= 16, got {self.max_side}")
        if not (self.min_motion >= 0) or not (0 < self.cut_threshold <= 1) or self.margin < 0:
            raise MotionComicError("--min-motion must be >= 0, --cut-threshold in (0, 1], --margin >= 0")
        if not 32 <= self.flow_side <= 1024 or not 0 <= self.crf <= 51:
            raise MotionComicError("--flow-side must be 32..1024 and --crf 0..51")


@dataclass
class PrepareReport:
    root: Path
    written: list[str] = field(default_factory=list)  # clip ids cut in this run
    resumed: int = 0  # finished clips found from an earlier run
    recaptioned: int = 0  # earlier clips whose fallback caption was replaced in this run
    dropped: list[dict] = field(default_factory=list)  # this run's rejections
    total: int = 0  # clips in the dataset now

    def summary(self) -> str:
        reasons: dict[str, int] = {}
        for d in self.dropped:
            reasons[d["kind"]] = reasons.get(d["kind"], 0) + 1
        why = ", ".join(f"{n} {k}" for k, n in sorted(reasons.items())) or "none"
        again = f", {self.recaptioned} re-captioned" if self.recaptioned else ""
        return (f"{self.total} clips in {self.root} ({len(self.written)} new, {self.resumed} already done{again}); "
                f"dropped this run: {why}")


def find_videos(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Files as given, and the video files (by extension) under given folders, recursively."""
    out: list[Path] = []
    for item in inputs:
        p = Path(item).expanduser()
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_EXTENSIONS)
        elif p.is_file():
            out.append(p)
        else:
            raise MotionComicError(f"{p} does not exist (give video files or folders of videos)")
    unique = list(dict.fromkeys(p.resolve() for p in out))
    if not unique:
        raise MotionComicError(f"no video files in {', '.join(map(str, inputs))} "
                               f"(looked for {' '.join(VIDEO_EXTENSIONS)})")
    return unique


def fingerprint(path: Path) -> str:
    """8 hex digits from the file's size and its first and last MiB (cheap; stable when moved)."""
    h = hashlib.sha256(str(path.stat().st_size).encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 20))
        f.seek(max(0, path.stat().st_size - (1 << 20)))
        h.update(f.read(1 << 20))
    return h.hexdigest()[:8]


def _stem(path: Path) -> str:
    return re.sub(r"[^\w.-]+", "_", path.stem).strip("._") or "video"


def prepare_dataset(videos: Sequence[str | os.PathLike], out: str | os.PathLike,
                    settings: PrepareSettings = PrepareSettings(), captioner: Captioner | None = None,
                    force: bool = False) -> PrepareReport:
    """Cut, filter and caption ``videos`` (files or folders) into the dataset folder ``out``.

    Resumes an unfinished dataset made with the same settings; ``force`` starts over. Raises
    :class:`MotionComicError` for bad input before anything is written, and at the end when the
    dataset has no clip (the message lists why each was dropped). Cancel (``host.request_cancel``,
    ComfyUI's interrupt) stops after the current frame with a consistent dataset.
    """
    settings.check()
    captioner = captioner or Captioner()
    paths = find_videos(videos)
    store = DatasetStore(out, asdict(settings), force=force)
    report = PrepareReport(store.root)
    try:
        for path in paths:
            _prepare_video(path, store, settings, captioner, report)
        _recaption(store, captioner, report, paths)
    finally:
        store.save()
        report.total = len(store.records)
    if not store.records:
        raise MotionComicError(_no_clips_message(store))
    return report


def _prepare_video(path: Path, store: DatasetStore, settings: PrepareSettings, captioner: Captioner,
                   report: PrepareReport) -> None:
    from ..media.video import iter_video

    fp = fingerprint(path)
    state = store.videos.get(fp, {})
    if state.get("status") == "done":
        report.resumed += state.get("clips", 0)
        log.info("%s: done in an earlier run (%d clips), skipped", path.name, state.get("clips", 0))
        return
    store.forget_rejections(fp)

    def drop(key: str, kind: str, reason: str, **where) -> None:
        entry = {"source": str(path), "fingerprint": fp, "kind": kind, "reason": reason, **where}
        store.reject(f"{fp}:{key}", entry)
        report.dropped.append(entry)
        log.info("dropped %s %s: %s", path.name, key, reason)

    try:
        meta, frames = iter_video(path)  # the source's size and rate; frames are decoded below
        frames.close()
        size = clip_size(*meta["size"], settings.max_side)
        meta, frames = iter_video(path, size=size)  # ffmpeg scales in its own process
    except MotionComicError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "unknown error"
        log.warning("skipping %s: ffmpeg cannot read it (%s)", path, first)
        drop("video", "unreadable", f"ffmpeg cannot read it: {first}")
        store.mark_video(fp, source=str(path), status="unreadable")
        return
    src_fps = float(meta["source_fps"])
    fps = settings.fps or src_fps
    if fps <= src_fps * 1.01:  # 24 on 23.976 fps footage: the source's own rate
        fps = min(fps, src_fps)
    else:
        frames.close()
        drop("video", "fps", f"the video is {src_fps:g} fps, below the clip rate {fps:g} fps (frames would "
             "repeat): use --fps source or a lower --fps")
        store.mark_video(fp, source=str(path), status="done", clips=0)
        return
    est = max(1, meta["frames"])  # from the container's duration; may be off by a few
    bar = host.Progress(est, f"{path.name[:24]}")
    stem, kept, decoded = _stem(path), 0, [0]
    store.mark_video(fp, source=str(path), status="partial")

    def on_frame(i: int) -> None:
        decoded[0] = i + 1
        if not (i + 1) % 8:
            bar.update_absolute(i + 1)

    try:
        for ev in cut_windows(frames, src_fps, length=settings.frames, fps=fps,
                              margin=settings.margin, cut_threshold=settings.cut_threshold,
                              flow_side=settings.flow_side, on_frame=on_frame):
            if isinstance(ev, ShortShot):
                need = settings.frames + 2 * settings.margin
                drop(f"s{ev.shot:03d}", "short", f"shot {ev.shot} has {ev.frames} frames at {fps:g} fps "
                     f"({ev.end - ev.start:.2f} s); a clip needs {need} ({settings.frames} + a margin of "
                     f"{settings.margin} at each cut)", shot=ev.shot, start=round(ev.start, 3), end=round(ev.end, 3))
                continue
            suffix = f"s{ev.shot:03d}-{ev.index:02d}"
            clip_id = f"{stem}-{fp}-{suffix}"
            if store.finished(clip_id):
                report.resumed += 1
                kept += 1
                continue
            end = ev.start + settings.frames / fps
            if ev.motion < settings.min_motion:
                drop(suffix, "motion", f"motion {ev.motion:.3f} % of the frame per frame is below --min-motion "
                     f"{settings.min_motion:g}", shot=ev.shot, start=round(ev.start, 3), end=round(end, 3),
                     motion=round(ev.motion, 4))
                continue
            cap = captioner.caption(path, suffix, ev.shot, ev.frames)
            rec = ClipRecord(id=clip_id, video=f"{CLIPS}/{clip_id}.mp4", first_frame=f"{CLIPS}/{clip_id}.png",
                             caption=cap.text, caption_source=cap.source, frames=settings.frames,
                             fps=round(fps, 6), width=size[0], height=size[1], source=str(path),
                             start=round(ev.start, 4), end=round(end, 4), shot=ev.shot,
                             motion=round(ev.motion, 4), caption_error=cap.error)
            _write_clip(store, rec, ev, settings)
            report.written.append(clip_id)
            kept += 1
        if est > 1 and decoded[0] < 0.9 * est:
            n, got = decoded[0], decoded[0] / src_fps
            drop("tail", "truncated", f"ffmpeg decoded {n} of the ~{est} frames the file announces ({got:.1f} of "
                 f"{meta['duration']:.1f} s): the rest is damaged or missing", start=round(got, 3),
                 end=round(meta["duration"], 3))
        store.mark_video(fp, source=str(path), status="done", clips=kept)
        bar.update_absolute(est)
    finally:
        frames.close()


def _recaption(store: DatasetStore, captioner: Captioner, report: PrepareReport, videos: list[Path]) -> None:
    """Give the earlier clips of ``videos`` (this run's) that got no real caption (``fallback`` /
    ``none``) one from a sidecar added since or from the LLM; the updated line is appended (a later
    line with the same id wins). Only this run's videos: a manifest's ``source`` never makes us read
    a text file the user did not point at."""
    from ..media.video import iter_video
    from .caption import sidecar_for

    def suffix(rec: ClipRecord) -> str:  # "s003-01" of "ep01-1a2b3c4d-s003-01"
        return "-".join(rec.id.rsplit("-", 2)[-2:])

    given = set(videos)
    todo = [r for r in store.records.values() if r.caption_source in ("fallback", "none")
            and r.id not in report.written and Path(r.source) in given and store.finished(r.id)
            and (captioner.llm is not None or sidecar_for(Path(r.source), suffix(r), r.shot))]
    if not todo:
        return
    bar = host.Progress(len(todo), "captions")
    for rec in todo:
        _, it = iter_video(rec.path(store.root))
        cap = captioner.caption(Path(rec.source), suffix(rec), rec.shot, list(it))
        if cap.source in ("sidecar", "llm"):
            store.add(dataclasses.replace(rec, caption=cap.text, caption_source=cap.source, caption_error=""))
            report.recaptioned += 1
        bar.step()


def _write_clip(store: DatasetStore, rec: ClipRecord, ev: Window, settings: PrepareSettings) -> None:
    from PIL import Image

    from ..media.video import write_video

    write_video(ev.frames, rec.path(store.root), rec.fps, crf=settings.crf, progress=False)
    png = rec.image_path(store.root)
    tmp = png.with_name(f".{png.stem}.partial-{os.getpid()}.png")
    try:
        Image.fromarray(np.ascontiguousarray(ev.frames[0])).save(tmp, format="PNG", compress_level=3)
        os.replace(tmp, png)
    finally:
        tmp.unlink(missing_ok=True)
    store.add(rec)


def _no_clips_message(store: DatasetStore, show: int = 20) -> str:
    entries = list(store.rejected.values())
    lines = [f"- {Path(e['source']).name}"
             + (f" shot {e['shot']} ({e['start']:.2f}-{e['end']:.2f} s)" if "shot" in e else "")
             + f": {e['reason']}" for e in entries[:show]]
    if len(entries) > show:
        lines.append(f"- ... and {len(entries) - show} more in {store.root / 'rejected.jsonl'}")
    hint = ("Lower --min-motion, --frames or --margin, or give longer shots."
            if any(e["kind"] in ("motion", "short") for e in entries) else "")
    return "\n".join([f"no usable clips in {store.root}: every clip was dropped.", *lines, hint]).strip()
