"""pytest plugin (``-p pytest_rootdir`` in pyproject.toml): collect the repository root as a plain folder.

The root is ComfyUI's package (``__init__.py``) and its folder is named whatever the user cloned it
as: ``ComfyUI-motioncomic`` is not a Python identifier, and pytest would import that ``__init__.py``
as a package named after the folder and fail. The tests import the pack as ``motioncomic``
(``tests/conftest.py``) instead. A plugin, not a conftest: a root conftest cannot decide how the root
itself is collected.
"""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent):
    if Path(path).resolve() == ROOT:
        return pytest.Dir.from_parent(parent, path=Path(path))
    return None
