"""Test setup: import the pack as ``motioncomic`` whatever its folder is called.

The repository root is the ComfyUI package, so we load it by path under one stable name. Helper
modules that build tiny models live next to the tests (``tests/tiny_*.py``) and are importable by
their plain names.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"  # test data committed with the tests (licenses beside each folder)

if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

if "motioncomic" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "motioncomic", ROOT / "__init__.py", submodule_search_locations=[str(ROOT)]
    )
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules["motioncomic"] = _mod
    _spec.loader.exec_module(_mod)

import pytest  # noqa: E402


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """A fresh standalone models directory (``host.set_models_dir``) for one test."""
    from motioncomic import host

    d = tmp_path / "models"
    d.mkdir()
    host.set_models_dir(d)
    yield d
    host.set_models_dir(None)


@pytest.fixture
def characters() -> Path:
    """The folder of real character images (tests/data/characters, MIT)."""
    return DATA / "characters"
