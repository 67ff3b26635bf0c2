"""Start a real ComfyUI (``$COMFYUI_DIR`` with ``$COMFYUI_PYTHON``) on a free port in a temp base dir.

Layout of the base directory (``main.py --base-directory``): ``custom_nodes/motioncomic`` is a
symlink to this checkout, ``models/`` is filled by every ``tests/tiny_*.py`` module's
``install_for_workflows(models_dir)``, ``input/`` holds the files the workflows name.

Usable from the command line too, to poke at a server by hand:
``python tests/comfyui/launch.py /tmp/base`` (prints the URL, Ctrl-C stops it).
"""
from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install_tiny_models(models_dir: Path) -> list[str]:
    """Call ``install_for_workflows(models_dir)`` of every ``tests/tiny_*.py``; returns who did."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    done = []
    for py in sorted(TESTS.glob("tiny_*.py")):
        mod = importlib.import_module(py.stem)
        fn = getattr(mod, "install_for_workflows", None)
        if fn is not None:
            fn(models_dir)
            done.append(py.stem)
    return done


def validate_only() -> tuple[dict[str, str], set[str]]:
    """Shipped API workflows that need models core ComfyUI cannot take tiny (name -> why), and the
    model files they name that the suite cannot provide: every ``tests/tiny_*.py``'s optional
    ``VALIDATE_ONLY`` / ``NOT_PROVIDED``."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    why, files = {}, set()
    for py in sorted(TESTS.glob("tiny_*.py")):
        mod = importlib.import_module(py.stem)
        why.update(getattr(mod, "VALIDATE_ONLY", {}))
        files |= set(getattr(mod, "NOT_PROVIDED", ()))
    return why, files


def make_tiny_inputs(input_dir: Path) -> list[str]:
    """Call the optional ``make_workflow_inputs(input_dir)`` of every ``tests/tiny_*.py`` (inputs a
    stage needs to be meaningful, e.g. a clip with a face its tiny detector finds); runs after the
    generic inputs, so it wins for the names it writes."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    done = []
    for py in sorted(TESTS.glob("tiny_*.py")):
        fn = getattr(importlib.import_module(py.stem), "make_workflow_inputs", None)
        if fn is not None:
            fn(input_dir)
            done.append(py.stem)
    return done


def prepare_base(base: Path) -> Path:
    for d in ("custom_nodes", "models", "input", "output", "temp", "user"):
        (base / d).mkdir(parents=True, exist_ok=True)
    link = base / "custom_nodes" / "motioncomic"
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    return base


def start(base: Path, comfy_dir: str | None = None, python: str | None = None, port: int | None = None,
          log_path: Path | None = None, timeout: float = 240.0) -> tuple[subprocess.Popen, str]:
    """Start ComfyUI and wait until ``/object_info`` answers. Returns (process, base URL)."""
    comfy_dir = comfy_dir or os.environ["COMFYUI_DIR"]
    python = python or os.environ.get("COMFYUI_PYTHON") or sys.executable
    port = port or free_port()
    log_path = log_path or base / "comfyui.log"
    cmd = [python, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(port), "--base-directory", str(base),
           "--disable-auto-launch"]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"), PYTHONUNBUFFERED="1")
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=comfy_dir, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"ComfyUI exited with {proc.returncode}; log:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/object_info/MotionComicSaveVideo", timeout=2) as r:
                if json.loads(r.read()):
                    return proc, url
        except OSError:
            pass
        time.sleep(0.5)
    stop(proc)
    raise RuntimeError(f"ComfyUI did not answer within {timeout} s; log:\n{log_path.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    base = prepare_base(Path(sys.argv[1]).resolve())
    print("tiny models from:", install_tiny_models(base / "models"))
    p, u = start(base)
    print(u, flush=True)
    try:
        p.wait()
    except KeyboardInterrupt:
        stop(p)
