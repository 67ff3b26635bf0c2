"""Fixtures of the opt-in real-ComfyUI suite: one ComfyUI server for the whole session.

The server runs ``main.py --cpu`` from ``$COMFYUI_DIR`` with ``$COMFYUI_PYTHON`` in a temp base
directory (see ``launch.py``): the pack linked into ``custom_nodes/``, tiny models from every
``tests/tiny_*.py`` ``install_for_workflows(models_dir)``, and the input files the API workflows
name (character images, a short clip made with ffmpeg, then what each ``tiny_*.py``
``make_workflow_inputs(input_dir)`` writes for its own stage).

The frontend tests share one headless Chromium page on that server (``browser``, driven by
``cdp.py``), and each UI workflow is loaded into it once for all their checks
(``opened_workflow``).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import launch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
API_FILES = sorted((ROOT / "workflows" / "api").glob("*.json"))
CHARACTERS = ROOT / "tests" / "data" / "characters"
IMAGE_INPUTS = {"LoadImage": "image", "LoadImageMask": "image"}
VIDEO_INPUTS = {"MotionComicLoadVideo": "video", "LoadVideo": "file"}


def _named_inputs(kinds: dict) -> set[str]:
    names = set()
    for p in API_FILES:
        for node in json.loads(p.read_text()).values():
            name = kinds.get(node.get("class_type"))
            value = (node.get("inputs") or {}).get(name) if name else None
            if isinstance(value, str):
                names.add(value.removesuffix(" [input]"))
    return names


def _make_clip(path: Path, source: Path, n: int = 9) -> None:
    """A short clip from a character image (a slow pan), so face/interpolation stages see real content."""
    from PIL import Image

    from motioncomic.media.video import write_video

    im = Image.open(source).convert("RGB")
    im.thumbnail((256, 256))
    a = np.asarray(im, dtype=np.float32) / 255.0
    h, w = a.shape[:2]
    frames = [a[: h - 8, i: w - 8 + i] for i in range(0, 8, max(1, 8 // n))][:n]
    while len(frames) < n:
        frames.append(frames[-1])
    write_video(frames, path, fps=8)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    if not os.environ.get("COMFYUI_DIR"):
        pytest.skip("COMFYUI_DIR not set (opt-in real-ComfyUI suite)")
    base = launch.prepare_base(tmp_path_factory.mktemp("comfyui-base"))
    launch.install_tiny_models(base / "models")
    chars = sorted(CHARACTERS.glob("*.png"))
    assert chars, f"no character images in {CHARACTERS}"
    for name in _named_inputs(IMAGE_INPUTS):
        src = CHARACTERS / Path(name).name
        dest = base / "input" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src if src.is_file() else chars[0], dest)
    for name in _named_inputs(VIDEO_INPUTS):
        _make_clip(base / "input" / name, chars[0])
    launch.make_tiny_inputs(base / "input")
    proc, url = launch.start(base)
    try:
        yield url, base
    finally:
        launch.stop(proc)


@pytest.fixture(scope="session")
def server_log(server):
    """Callable returning the tail of the server's log (for failure messages)."""
    def tail() -> str:
        p = server[1] / "comfyui.log"
        return p.read_text(errors="replace")[-4000:] if p.exists() else ""

    return tail


@pytest.fixture(scope="session")
def object_info(server):
    from motioncomic.remote.comfy_api import ComfyClient

    return ComfyClient(server[0]).object_info()




@pytest.fixture(scope="session")
def browser(server):
    """One headless Chromium (``cdp.Chromium``) with the ComfyUI page open, for the whole session.

    Response statuses of the page load are kept in ``browser.responses`` and what it logged in
    ``browser.startup_console``; ``browser.console`` keeps growing with everything later tests do.
    """
    from cdp import Chromium, chromium_path
    from frontend_checks import open_app

    if chromium_path() is None:
        pytest.skip("chromium not installed (Debian: apt-get install chromium)")
    with Chromium() as c:
        c.call("Network.enable")
        open_app(c, server[0])
        c.pump(1.0)  # late extension requests and their console output
        c.call("Network.disable")
        c.startup_console = list(c.console)
        yield c


@pytest.fixture(scope="session")
def opened_workflow(browser):
    """``opened_workflow(path)`` -> ``frontend_checks.load_workflow`` result, each file loaded once."""
    from frontend_checks import load_workflow

    results: dict[Path, dict] = {}

    def get(path: Path) -> dict:
        if path not in results:
            results[path] = load_workflow(browser, json.loads(path.read_text()), path.name)
        return results[path]

    return get
