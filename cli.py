"""``python -m motioncomic``: the headless route and the ComfyUI API client (a thin argparse layer).

    python -m motioncomic animate IMAGE "PROMPT" --model NAME_OR_PATH [--models-dir DIR] -o OUT.mp4
    python -m motioncomic submit WORKFLOW.json --server URL [--image F] [--prompt T] [--seed N] -o DIR
    python -m motioncomic submit --jobs JOBS.csv --server URL [--server URL2 ...] -o DIR
    python -m motioncomic prepare-dataset VIDEOS... -o DATASET [--caption openai --llm-model M]
    python -m motioncomic train-lora DATASET --model NAME [--steps N] [--rank R] -o OUT

Exit codes: 0 done, 1 some batch jobs failed, 2 bad input (message, no traceback), 130 cancelled.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path

from . import host
from .errors import Cancelled, MotionComicError

log = logging.getLogger(__name__)

FRAMINGS = ["pad", "crop", "stretch"]


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m motioncomic", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Animate a character image without ComfyUI, or run workflows on ComfyUI servers.",
        epilog="examples:\n" + "\n".join(__doc__.split("\n\n")[1].splitlines()[:4]) + "\n\n"
               + __doc__.split("\n\n")[2] + "\nSee docs/cli.md.")
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress bar, warnings only")
    sub = ap.add_subparsers(dest="command", required=True, metavar="{animate,submit,prepare-dataset,train-lora}")

    a = sub.add_parser("animate", help="image + prompt -> clip, without ComfyUI (same code as the nodes)")
    a.add_argument("image", help="character image (png/jpg/webp; any size and aspect)")
    a.add_argument("prompt", help="what should happen, e.g. 'she waves and smiles'")
    a.add_argument("--model", required=True, help="model folder/file name under the models dir, or a path")
    a.add_argument("--models-dir", help="ComfyUI-style models/ folder (default $MOTIONCOMIC_MODELS_DIR or ./models)")
    a.add_argument("--family", default="auto", help="model family (default: recognised from the files)")
    a.add_argument("--dtype", default="auto", choices=["auto", "bf16", "fp16", "fp32"], help="weights dtype")
    a.add_argument("--device", default=None, help="cuda / cpu / mps (default: best available)")
    a.add_argument("--offload", default="none", choices=["none", "model", "sequential"],
                   help="CPU offload to save GPU memory (slower)")
    a.add_argument("--negative", default="", help="negative prompt")
    a.add_argument("--expand", default="off", choices=["off", "openai", "local", "rules"],
                   help="expand the prompt first (as the Expand Prompt node): an OpenAI-compatible server, "
                        "a local model from models/LLM/, or our rules; falls back to rules if the LLM fails")
    a.add_argument("--llm-url", default=None, help="--expand openai: server URL (default Ollama on 127.0.0.1:11434)")
    a.add_argument("--llm-model", default=None, help="--expand openai/local: model name (Ollama tag or models/LLM/ folder)")
    a.add_argument("--llm-key-env", default="", help="--expand openai: NAME of the environment variable holding the key")
    a.add_argument("--action", default="none", help="--expand: action preset (wave, walk, touch head, point, hug, fight, ...)")
    a.add_argument("--camera", default="static", help="--expand: camera preset (static, slow zoom in, pan left, ...)")
    a.add_argument("--frames", type=int, default=None, help="frame count (default: the model's; 8N+1 / 16N+1)")
    a.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
    a.add_argument("--cfg", type=float, default=None, help="guidance scale (default: the model's)")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--framing", default="pad", choices=FRAMINGS,
                   help="pad = letterbox with black borders and crop them off (default), crop, stretch")
    a.add_argument("--border-color", default="#000000",
                   help="letterbox border (and transparency) colour: '#000000' or '0,0,0'")
    a.add_argument("--resize-back", action="store_true", help="resize frames back to the input image's size")
    a.add_argument("--fps", type=float, default=None, help="override the model's frame rate in the file")
    a.add_argument("--crf", type=int, default=None, help="mp4/webm quality (lower = better)")
    a.add_argument("-o", "--output", required=True, help="output file: .mp4, .webm, .webp or .gif")

    s = sub.add_parser("submit", help="run an API-format workflow on a running ComfyUI server")
    s.add_argument("workflow", nargs="?", help="API-format workflow JSON (workflows/api/*.json)")
    s.add_argument("--server", action="append", default=None,
                   help="ComfyUI URL, e.g. http://127.0.0.1:8188 (repeat for several servers with --jobs)")
    s.add_argument("--image", help="upload this image and use it in the LoadImage node")
    s.add_argument("--video", help="upload this clip and use it in the Load Video node (post-only chain)")
    s.add_argument("--prompt", help="replace the prompt text (our Expand Prompt / sampler node)")
    s.add_argument("--seed", type=int, help="replace every seed input")
    s.add_argument("--jobs", help="CSV with columns image,prompt,seed,workflow[,id]: batch mode")
    s.add_argument("--retries", type=int, default=2, help="batch: retries per job after a failure")
    s.add_argument("--per-server", type=int, default=2, help="batch: jobs kept queued on each server")
    s.add_argument("--resume", action="store_true", help="batch: skip jobs marked ok in DIR/manifest.json")
    s.add_argument("--timeout", type=float, default=None, help="seconds per job before it is interrupted")
    s.add_argument("-o", "--output", required=True, help="folder for the downloaded outputs")

    from .training.cli import add_parser as add_train_lora  # argparse only; torch loads when it runs
    from .training.commands import add_prepare_dataset

    add_prepare_dataset(sub)
    add_train_lora(sub)
    return ap


# --------------------------------------------------------------------------- animate
def _install_sigint():
    """First Ctrl-C asks the running job to stop cleanly (no partial file); the second aborts.

    Returns the previous handler (restored when the command ends)."""
    state = {"n": 0}

    def handler(signum, frame):
        state["n"] += 1
        if state["n"] == 1:
            sys.stderr.write("\ncancelling after the current step (Ctrl-C again to abort)...\n")
            host.request_cancel()
        else:
            raise KeyboardInterrupt

    return signal.signal(signal.SIGINT, handler)


class _sigint_cancels:
    """First Ctrl-C cancels after the current step (see ``_install_sigint``) for a block."""

    def __enter__(self):
        host.clear_cancel()
        self.previous = _install_sigint()

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)
        host.clear_cancel()


def cmd_animate(args) -> int:
    from .media.images import load_image
    from .media.video import format_for, write_video
    from .samplers.framing import parse_color

    out = Path(args.output)
    format_for(out)  # bad extension / colour / missing image / output folder -> error before loading anything
    fill = parse_color(args.border_color)
    image_np = load_image(args.image)
    _check_output_folder(out)
    if args.models_dir:
        host.set_models_dir(args.models_dir)
    import torch

    from .loaders.registry import load_video_model
    from .samplers.i2v import image_to_video

    image = torch.from_numpy(image_np)
    host.clear_cancel()
    previous = _install_sigint()
    try:
        t0 = time.monotonic()
        model = load_video_model(typed_path(args.model), family=args.family, dtype=args.dtype, device=args.device,
                                 offload=args.offload, defer=True)  # weights are read after the checks below
        if args.frames:
            model.frame_counts.check(args.frames, model.name or model.variant)
        log.info("found %s (%s %s) in %.1f s", args.model, model.family, model.variant, time.monotonic() - t0)
        prompt = _expanded(args, model, image_np[0]) if args.expand != "off" else args.prompt
        result = image_to_video(model, image, prompt, args.negative, num_frames=args.frames, steps=args.steps,
                                cfg=args.cfg, seed=args.seed, framing=args.framing,
                                fill=fill, resize_back=args.resize_back)
        for line in getattr(result, "report", []) or []:
            log.info("%s", line)
        fps = args.fps or float(result.fps)
        path = write_video(result.frames, out, fps, crf=args.crf,
                           metadata={"comment": f"motioncomic: {prompt}", "seed": str(args.seed)})
        n, h, w = result.frames.shape[:3]
        log.info("wrote %s: %d frames %dx%d at %.3g fps in %.1f s", path, n, w, h, fps, time.monotonic() - t0)
    finally:
        signal.signal(signal.SIGINT, previous)
        host.clear_cancel()
    print(path)
    return 0


def typed_path(name: str) -> str | Path:
    """What the user typed for a model: a path (absolute, ``./``, ``../``, ``~``) is taken as a path;
    anything else is a name inside the model folders (``host.find_model``)."""
    if Path(name).expanduser().is_absolute() or name.startswith(("./", "../", "~", ".\\", "..\\")):
        return Path(name).expanduser()
    return name


def _check_output_folder(out: Path) -> None:
    folder = out.resolve().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MotionComicError(f"cannot create the output folder {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK):
        raise MotionComicError(f"the output folder {folder} is not writable; choose another -o")


def _expanded(args, model, image) -> str:
    """The prompt expanded for ``model`` as the Expand Prompt node does (status logged)."""
    from .prompts.expand import LLMSettings, expand_prompt, family_of

    family, limit, tokenizer = family_of(model)
    settings = LLMSettings(backend=args.expand, api_key_env=args.llm_key_env,
                           **{k: v for k, v in (("base_url", args.llm_url), ("model", args.llm_model)) if v})
    result = expand_prompt(args.prompt, family=family, action=args.action, camera=args.camera, image=image,
                           settings=settings, tokenizer=tokenizer, limit=limit)
    log.info("prompt (%s): %s", result.status, result.prompt)
    return result.prompt


# --------------------------------------------------------------------------- submit
class _Progress:
    """Websocket events → one status line on stderr."""

    def __init__(self, prompt: dict, quiet: bool):
        self.types = {k: v.get("class_type", "?") for k, v in prompt.items()}
        self.quiet = quiet
        self.node = None

    def __call__(self, ev: dict) -> None:
        if self.quiet:
            return
        kind, data = ev.get("type"), ev.get("data") or {}
        if kind == "executing" and data.get("node") is not None:
            self.node = data["node"]
            sys.stderr.write(f"\rnode {self.node} ({self.types.get(self.node, '?')})".ljust(60) + "\n")
        elif kind == "progress":
            v, m = data.get("value", 0), data.get("max", 1) or 1
            bar = "#" * int(30 * v / m)
            sys.stderr.write(f"\r  [{bar:<30}] {v}/{m}")
            if v >= m:
                sys.stderr.write("\n")
        elif kind == "execution_cached" and data.get("nodes"):
            sys.stderr.write(f"cached: {', '.join(map(str, data['nodes']))}\n")
        sys.stderr.flush()


def cmd_submit(args) -> int:
    from .remote.comfy_api import ComfyClient
    from .remote.workflow import apply_overrides, load_workflow

    servers = [s for arg in (args.server or []) for s in arg.split(",") if s.strip()]
    if not servers:
        raise MotionComicError("--server URL is required (e.g. --server http://127.0.0.1:8188)")
    if args.jobs:
        return _submit_jobs(args, servers)
    if not args.workflow:
        raise MotionComicError("give a WORKFLOW.json (API format) or --jobs JOBS.csv")
    if len(servers) > 1:
        raise MotionComicError("several --server values only make sense with --jobs")
    prompt = load_workflow(args.workflow)
    client = ComfyClient(servers[0])
    image = client.upload_image(args.image) if args.image else None
    video = client.upload_image(args.video) if args.video else None
    prompt, changes = apply_overrides(prompt, image=image, video=video, text=args.prompt, seed=args.seed)
    for c in changes:
        log.info("override: %s", c)
    try:
        result = client.run(prompt, args.output, on_event=_Progress(prompt, args.quiet), timeout=args.timeout)
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupting the server...\n")
        client.interrupt()
        raise Cancelled("cancelled by the user") from None
    log.info("prompt %s finished in %.1f s", result.prompt_id, result.seconds)
    if not result.files:
        log.warning("the workflow finished but produced no output files (does it end in a save node?)")
    for f in result.files:
        print(f)
    return 0


def _submit_jobs(args, servers: list[str]) -> int:
    from .remote.batch import read_jobs, run_batch

    jobs = read_jobs(args.jobs, default_workflow=args.workflow)

    def on_result(r) -> None:
        if not args.quiet:
            sys.stderr.write(f"{r.job}: {r.status} on {r.server} in {r.seconds:.1f} s"
                             f"{' - ' + r.error.splitlines()[0] if r.error and r.status != 'ok' else ''}\n")

    results = run_batch(jobs, servers, args.output, retries=args.retries, per_server=args.per_server,
                        timeout=args.timeout, resume=args.resume, on_result=on_result)
    failed = [r for r in results if r.status != "ok"]
    log.info("%d/%d jobs ok; manifest: %s", len(results) - len(failed), len(results),
             Path(args.output) / "manifest.json")
    return 1 if failed else 0


# --------------------------------------------------------------------------- prepare-dataset
def cmd_prepare_dataset(args) -> int:
    from .training.commands import run_prepare_dataset

    host.clear_cancel()
    previous = _install_sigint()
    try:
        return run_prepare_dataset(args)
    finally:
        signal.signal(signal.SIGINT, previous)
        host.clear_cancel()


def cmd_train_lora(args) -> int:
    from .training.cli import run

    with _sigint_cancels():
        return run(args)


COMMANDS = {"animate": cmd_animate, "submit": cmd_submit, "prepare-dataset": cmd_prepare_dataset,
            "train-lora": cmd_train_lora}


# --------------------------------------------------------------------------- entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    # our messages go to stderr through the pack's logger (not the root one, which may belong to a host)
    pack_log = logging.getLogger(__package__ or "motioncomic")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    pack_log.addHandler(handler)
    old_level = pack_log.level
    pack_log.setLevel(level)
    saved = os.environ.get("MOTIONCOMIC_PROGRESS")
    if not args.quiet and saved is None:
        os.environ["MOTIONCOMIC_PROGRESS"] = "1"  # host.Progress draws its bar on stderr
    try:
        return COMMANDS[args.command](args)
    except MotionComicError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except (Cancelled, KeyboardInterrupt):
        sys.stderr.write("cancelled\n")
        return 130
    finally:
        pack_log.removeHandler(handler)
        pack_log.setLevel(old_level)
        if saved is None:
            os.environ.pop("MOTIONCOMIC_PROGRESS", None)
