"""The pack's own source files: the checkout minus hidden folders (``.venv``, ``.git``), caches and
build output, so tests that read "every file of the pack" never wander into a virtual environment."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_PACK = {"__pycache__", "build", "dist", "node_modules"}


def is_pack_path(path: Path) -> bool:
    rel = path.relative_to(ROOT).parts
    return not any(p.startswith(".") or p in NOT_PACK or p.endswith(".egg-info") for p in rel[:-1])


def pack_files(pattern: str = "*.py") -> list[Path]:
    return sorted(p for p in ROOT.rglob(pattern) if is_pack_path(p))
