"""The dataset folder while ``prepare-dataset`` writes it: resume, ``--force``, crash-safe updates.

Consistency rules (what a reader may rely on at any moment, even after Ctrl-C or a kill):

- a manifest line is appended (one ``write`` + ``fsync``) only after its clip and first frame were
  renamed into place, so every line refers to whole files; the clip writer itself writes under a
  hidden temporary name (``media/video.py``);
- ``dataset.json``, ``rejected.jsonl``, ``prompts.txt`` and ``videos.txt`` are replaced
  atomically (temporary file + ``os.replace``);
- a video is marked ``done`` in ``dataset.json`` only when all of it was processed; a rerun skips
  done videos without decoding them and redoes the others, skipping their finished clips. A clip
  file without a manifest line (killed between the two) or a line whose files are gone is partial
  and is cut again.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from ..errors import DatasetError, MotionComicError
from .dataset import (CLIPS, FORMAT, INFO, MANIFEST, REJECTED, VERSION, ClipRecord, inside_dataset, parse_record,
                      read_info)

log = logging.getLogger(__name__)

COMPAT_FILES = ("prompts.txt", "videos.txt")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class DatasetStore:
    """Open (or create) the dataset folder ``root`` for writing clips cut with ``settings``.

    Refuses, before anything is written, a folder that is not empty and not a motioncomic dataset,
    and a dataset made with other clip settings unless ``force`` (which deletes the old manifest,
    lists and the clips they name, and nothing else).
    """

    def __init__(self, root: str | os.PathLike, settings: dict[str, Any], force: bool = False):
        self.root = Path(root)
        self.clips_dir = self.root / CLIPS
        self.settings = dict(settings)
        if self.root.exists() and not self.root.is_dir():
            raise MotionComicError(f"-o {self.root} is a file; give a folder for the dataset")
        info = read_info(self.root) if self.root.is_dir() else {}
        if not info and self.root.is_dir() and any(self.root.iterdir()):
            raise MotionComicError(
                f"{self.root} is not empty and not a motioncomic dataset (no {INFO}): choose a new or empty "
                "folder (nothing there is overwritten, not even with --force)")
        if info:
            inside_dataset(self.root, CLIPS)  # a clips/ linked elsewhere: nothing is written or deleted there
        if info and info.get("settings") != self.settings:
            if not force:
                old = info.get("settings") or {}
                diff = [f"{k} {old.get(k)!r} -> {v!r}" for k, v in self.settings.items() if old.get(k) != v]
                raise MotionComicError(
                    f"{self.root} was prepared with other settings ({'; '.join(diff)}). Rerun with the same "
                    "settings to resume it, choose another -o, or add --force to delete its clips and start over")
        if info and force:
            self._delete_old()
            info = {}
        self.videos: dict[str, dict] = dict(info.get("videos") or {})
        self.records: dict[str, ClipRecord] = self._read_records()
        self.rejected: dict[str, dict] = self._read_rejected()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._rewrite_manifest()  # compact: drops duplicate ids and an incomplete last line
            self.save()  # dataset.json first: a folder we made is always recognised as ours
            self.clips_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise MotionComicError(f"cannot write the dataset into {self.root}: {exc.strerror or exc}; "
                                   "choose a writable folder") from exc
        for stale in self.clips_dir.glob(".*.partial-*"):  # temporary files of a killed run
            stale.unlink(missing_ok=True)

    # ------------------------------------------------------------------ reading back
    def _read_records(self) -> dict[str, ClipRecord]:
        p = self.root / MANIFEST
        out: dict[str, ClipRecord] = {}
        if not p.is_file():
            return out
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = parse_record(line, p, n)
            except DatasetError:
                raise  # names files outside the dataset: refuse it whole, delete and read nothing
            except (ValueError, TypeError):
                log.warning("%s line %d is incomplete or damaged: that clip will be cut again", p, n)
                continue
            out.pop(rec.id, None)
            out[rec.id] = rec
        return out

    def _read_rejected(self) -> dict[str, dict]:
        p = self.root / REJECTED
        out: dict[str, dict] = {}
        if p.is_file():
            for line in p.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    out[entry["key"]] = entry
                except (ValueError, KeyError, TypeError):
                    continue
        return out

    def _delete_old(self) -> None:
        for rec in self._read_records().values():  # refuses the whole manifest if one line leads out
            for path in (rec.path(self.root), rec.image_path(self.root)):
                path.unlink(missing_ok=True)
        for name in (MANIFEST, REJECTED, INFO, *COMPAT_FILES):
            (self.root / name).unlink(missing_ok=True)
        log.info("--force: removed the previous manifest and clips of %s", self.root)

    # ------------------------------------------------------------------ state
    def finished(self, clip_id: str) -> bool:
        """True when ``clip_id`` is in the manifest and its files are on disk (else it is redone)."""
        rec = self.records.get(clip_id)
        return rec is not None and rec.path(self.root).is_file() and rec.image_path(self.root).is_file() \
            and rec.path(self.root).stat().st_size > 0

    def add(self, rec: ClipRecord) -> None:
        """Append ``rec`` to the manifest (its files must already be in place)."""
        line = (rec.to_json() + "\n").encode("utf-8")
        fd = os.open(self.root / MANIFEST, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.records.pop(rec.id, None)
        self.records[rec.id] = rec

    def reject(self, key: str, entry: dict) -> None:
        self.rejected[key] = {"key": key, **entry}

    def forget_rejections(self, fingerprint: str) -> None:
        """Drop the rejections of one video (it is being processed again)."""
        self.rejected = {k: v for k, v in self.rejected.items() if v.get("fingerprint") != fingerprint}

    def mark_video(self, fingerprint: str, **state: Any) -> None:
        self.videos[fingerprint] = state

    def save(self) -> None:
        """Write ``dataset.json``, ``rejected.jsonl`` and the trainer-compatible lists atomically."""
        info = {"format": FORMAT, "version": VERSION, "settings": self.settings, "videos": self.videos}
        _atomic_write(self.root / INFO, json.dumps(info, indent=1, ensure_ascii=False) + "\n")
        _atomic_write(self.root / REJECTED, "".join(json.dumps(v, ensure_ascii=False) + "\n"
                                                    for v in self.rejected.values()))
        recs = list(self.records.values())
        _atomic_write(self.root / "prompts.txt", "".join(" ".join(r.caption.split()) + "\n" for r in recs))
        _atomic_write(self.root / "videos.txt", "".join(r.video + "\n" for r in recs))

    def _rewrite_manifest(self) -> None:
        _atomic_write(self.root / MANIFEST, "".join(r.to_json() + "\n" for r in self.records.values()))
