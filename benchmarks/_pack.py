"""Shared by the benchmark scripts: import the checkout as ``motioncomic`` and read peak memory."""
from __future__ import annotations

import importlib.util
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def import_pack(root: Path | str = ROOT) -> None:
    """Import the checkout at ``root`` as the package ``motioncomic`` (once per process)."""
    if "motioncomic" in sys.modules:
        return
    root = Path(root)
    spec = importlib.util.spec_from_file_location("motioncomic", root / "__init__.py",
                                                  submodule_search_locations=[str(root)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules["motioncomic"] = mod
    spec.loader.exec_module(mod)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
