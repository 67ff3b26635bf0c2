"""Cache of LLM expansions keyed by everything that determines the answer.

Key = SHA-256 of (prompt, image hash, backend, base URL, model, settings, system-prompt version).
An in-memory LRU serves re-queued graphs in the same process; an optional JSON file per entry
under ``host.temp_dir()/prompt_cache`` survives restarts. API keys are never part of the key or
the stored value. Only successful LLM answers are stored (a fallback is retried next time).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from .. import host

log = logging.getLogger(__name__)


def cache_key(**parts: Any) -> str:
    """Stable hex key of the keyword arguments (JSON-serialisable values)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class PromptCache:
    """Thread-safe LRU of ``key -> expanded prompt`` with optional on-disk persistence."""

    def __init__(self, max_entries: int = 256, disk_dir: Path | None = None):
        self.max_entries = max_entries
        self.disk_dir = disk_dir
        self._mem: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path | None:
        return self.disk_dir / f"{key}.json" if self.disk_dir is not None else None

    def get(self, key: str) -> str | None:
        with self._lock:
            if key in self._mem:
                self._mem.move_to_end(key)
                return self._mem[key]
        path = self._path(key)
        if path is not None and path.is_file():
            try:
                value = json.loads(path.read_text(encoding="utf-8"))["prompt"]
            except (OSError, ValueError, KeyError, TypeError):
                return None
            if isinstance(value, str):
                self._remember(key, value)
                return value
        return None

    def put(self, key: str, value: str) -> None:
        self._remember(key, value)
        path = self._path(key)
        if path is None:
            return
        try:  # write-then-rename so a crash never leaves a half file
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"prompt": value}, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:  # a read-only temp dir must not break expansion
            log.warning("prompt cache: could not write %s: %s", path, exc)

    def _remember(self, key: str, value: str) -> None:
        with self._lock:
            self._mem[key] = value
            self._mem.move_to_end(key)
            while len(self._mem) > self.max_entries:
                self._mem.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._mem.clear()

    def __len__(self) -> int:
        return len(self._mem)


_default: PromptCache | None = None


def default_cache() -> PromptCache:
    """The process-wide cache, persisted under ``host.temp_dir()/prompt_cache``."""
    global _default
    if _default is None:
        _default = PromptCache(disk_dir=host.temp_dir() / "prompt_cache")
    return _default
