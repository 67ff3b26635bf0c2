"""The on-disk layout of a training dataset and its reader (the contract between
``prepare-dataset``, which writes it, and the LoRA trainer, which reads it).

::

    DATASET/
      dataset.json        # format, version, the settings the clips were cut with, per-video state
      manifest.jsonl      # one ClipRecord per line, one line per kept clip (the trainer reads this)
      rejected.jsonl      # one line per dropped clip or unreadable video, with the reason
      prompts.txt         # one caption per line  } the same clips in the layout the diffusers /
      videos.txt          # one clip path per line } CogVideoX-factory trainers read
      clips/<id>.mp4      # fixed-length clip (H.264, yuv420p, even width and height)
      clips/<id>.png      # its first frame (the image the I2V model is conditioned on)

Every path in a record is relative to ``DATASET`` with ``/`` separators, under ``clips/``. A
manifest line is appended only after its clip, first frame and caption are complete, so every line
refers to whole files; see ``docs/dataset.md``.

A dataset may come from someone else: a record whose names are absolute, contain ``..``, a drive
letter or NUL, or lead out of the folder through a symbolic link is refused (:class:`DatasetError`
naming the manifest line) before any file it names is read or deleted.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import DatasetError, MotionComicError
from ..host.folders import clean_name

log = logging.getLogger(__name__)

FORMAT = "motioncomic-dataset"
VERSION = 1
MANIFEST = "manifest.jsonl"
REJECTED = "rejected.jsonl"
INFO = "dataset.json"
CLIPS = "clips"
#: where a caption came from: a sidecar text file, the vision LLM, the fallback text (LLM failed)
CAPTION_SOURCES = ("sidecar", "llm", "fallback", "none")


@dataclass(frozen=True)
class ClipRecord:
    """One training clip.

    Attributes:
        id: unique, stable name (``<video stem>-<fingerprint>-s<shot>-<n>``), also the file stem.
        video: the clip file, relative to the dataset folder (``clips/<id>.mp4``).
        first_frame: its first frame as PNG, same size as the clip (``clips/<id>.png``).
        caption: English description of the clip (may be empty when ``caption_source`` is
            ``"fallback"`` or ``"none"``).
        caption_source: ``sidecar`` | ``llm`` | ``fallback`` | ``none`` (see ``CAPTION_SOURCES``).
        frames: frame count of the clip (the dataset's fixed length, e.g. 49).
        fps: frame rate of the clip (the dataset's rate, or the source's with ``--fps source``).
        width, height: clip frame size in pixels (the source's aspect, long side <= ``max_side``).
        source: path of the source video (absolute, as found when the clip was cut).
        start, end: time range in the source in seconds (``end`` exclusive: ``start + frames/fps``).
        shot: index of the shot in the source (0 = before the first cut).
        motion: mean optical-flow magnitude between consecutive clip frames, in percent of the
            frame's long side per frame (0 = still; resolution-independent).
        caption_error: why the LLM caption failed (only when ``caption_source == "fallback"``).
    """

    id: str
    video: str
    first_frame: str
    caption: str
    caption_source: str
    frames: int
    fps: float
    width: int
    height: int
    source: str
    start: float
    end: float
    shot: int
    motion: float
    caption_error: str = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            ok = isinstance(value, str) if f.type == "str" else \
                isinstance(value, (int, float) if f.type == "float" else int) and not isinstance(value, bool)
            if not ok:
                raise ValueError(f"{f.name} must be {'text' if f.type == 'str' else 'a number'}, not {value!r}")
        fix = ("prepare-dataset never writes such a name: remove that line, or rebuild the dataset from its "
               "videos into a new folder")
        if clean_name(self.id) != self.id or "/" in self.id:
            raise DatasetError(f"the clip id {self.id!r} is not a plain file name; {fix}")
        for name in (self.video, self.first_frame):
            if clean_name(name) != name or not name.startswith(f"{CLIPS}/"):
                raise DatasetError(f"{name!r} is not a file under {CLIPS}/ of the dataset (absolute paths, '..', "
                                   f"drive letters and backslashes are refused); {fix}")

    def path(self, root: str | os.PathLike) -> Path:
        """Path of the clip file under the dataset folder ``root`` (refused if it leads out of it)."""
        return inside_dataset(root, self.video)

    def image_path(self, root: str | os.PathLike) -> Path:
        """Path of the first-frame PNG under ``root`` (refused if it leads out of it)."""
        return inside_dataset(root, self.first_frame)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClipRecord":
        """The record of one manifest line. Raises ``ValueError`` / ``TypeError`` for a damaged one,
        :class:`DatasetError` for one whose names could leave the dataset."""
        if not isinstance(data, dict):
            raise TypeError(f"a clip record is a JSON object, not {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        required = [f.name for f in fields(cls) if f.default is MISSING]
        missing = [n for n in required if n not in data]
        if missing:
            raise ValueError(f"missing fields {', '.join(missing)}")
        # fields added by later versions are ignored, so an older reader still reads newer files
        return cls(**{k: v for k, v in data.items() if k in names})


def inside_dataset(root: str | os.PathLike, rel: str) -> Path:
    """``root / rel``, after checking that it stays inside ``root`` once symbolic links are followed."""
    path = Path(root) / rel
    real, base = path.resolve(), Path(root).resolve()
    if not real.is_relative_to(base):
        raise DatasetError(f"{path} leads to {real}, outside the dataset folder {base} (a symbolic link): "
                           "the files of a dataset must be inside it; put the file itself there, or remove that "
                           f"clip's line from {MANIFEST}")
    return path


def parse_record(line: str, manifest: Path, n: int) -> ClipRecord:
    """Line ``n`` of ``manifest`` as a record whose files are inside the dataset.

    Raises ``ValueError`` / ``TypeError`` for a damaged line (the caller decides whether that clip is
    redone or the manifest refused) and :class:`DatasetError`, naming the line, for one that names
    files outside the dataset: nothing it names is read or deleted.
    """
    try:
        rec = ClipRecord.from_dict(json.loads(line))
        rec.path(manifest.parent)  # each raises when its file leads out of the dataset
        rec.image_path(manifest.parent)
    except DatasetError as exc:
        raise DatasetError(f"{manifest} line {n}: {exc}") from None
    return rec


def read_info(root: str | os.PathLike) -> dict[str, Any]:
    """``dataset.json`` of ``root`` (format, version, settings, videos); {} if there is none."""
    p = Path(root) / INFO
    if not p.is_file():
        return {}
    try:
        info = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MotionComicError(f"{p} is not readable JSON ({exc}); rebuild the dataset with --force") from exc
    if info.get("format") != FORMAT:
        raise MotionComicError(f"{p} is not a motioncomic dataset (format {info.get('format')!r})")
    if int(info.get("version", 0)) > VERSION:
        raise MotionComicError(f"{p} has version {info.get('version')}; this motioncomic reads up to "
                               f"{VERSION}: update motioncomic")
    return info


def read_manifest(root: str | os.PathLike, *, check_files: bool = True) -> list[ClipRecord]:
    """The clips of the dataset at ``root``, in manifest order (a later line with the same id wins).

    A last line without its newline (a process killed while appending) is skipped with a warning;
    any other malformed line is an error naming the line. With ``check_files`` every clip's video
    and first frame must exist. Raises :class:`MotionComicError` for a folder that is not a dataset
    or holds no clips.
    """
    root = Path(root)
    p = root / MANIFEST
    if not p.is_file():
        hint = (" (it has no dataset.json either: is this the right folder?)" if not (root / INFO).exists()
                else " (the preparation was stopped before the first clip: run prepare-dataset again)")
        raise MotionComicError(f"no {MANIFEST} in {root}{hint}. Make one with "
                               f"`python -m motioncomic prepare-dataset VIDEOS... -o {root}`.")
    read_info(root)  # refuses a newer format
    text = p.read_text(encoding="utf-8")
    lines = text.split("\n")
    records: dict[str, ClipRecord] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        last_unterminated = n == len(lines) and not text.endswith("\n")
        try:
            rec = parse_record(line, p, n)
        except DatasetError:
            raise
        except (ValueError, TypeError) as exc:
            if last_unterminated:
                log.warning("%s: ignoring the incomplete last line %d", p, n)
                continue
            raise MotionComicError(f"{p} line {n} is not a clip record ({exc}); rebuild the dataset "
                                   "with prepare-dataset --force") from exc
        records.pop(rec.id, None)
        records[rec.id] = rec
    clips = list(records.values())
    if not clips:
        raise MotionComicError(f"the dataset {root} has no clips; see {root / REJECTED} for why each was dropped")
    if check_files:
        missing = [c.video for c in clips if not c.path(root).is_file()]
        missing += [c.first_frame for c in clips if not c.image_path(root).is_file()]
        if missing:
            raise MotionComicError(f"the dataset {root} lists {len(missing)} missing files "
                                   f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}); "
                                   "run prepare-dataset on it again to redo them")
    return clips
