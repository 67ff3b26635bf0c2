"""Command-line declaration of ``python -m motioncomic prepare-dataset`` (``cli.py`` registers it)."""
from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def _fps(text: str) -> float | None:
    if text.strip().lower() == "source":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--fps takes a number or 'source', not {text!r}") from None


def add_prepare_dataset(sub) -> None:
    """Add the ``prepare-dataset`` sub-command to an ``add_subparsers()`` object."""
    from ..interpolation.cuts import DEFAULT_THRESHOLD
    from .caption import DEFAULT_VISION_MODEL

    p = sub.add_parser("prepare-dataset", help="footage -> captioned fixed-length training clips (docs/dataset.md)")
    p.add_argument("videos", nargs="+", help="video files and/or folders of videos (searched recursively)")
    p.add_argument("-o", "--output", required=True, help="dataset folder (created; resumed if it is one)")
    p.add_argument("--frames", type=int, default=49, help="frames per clip, 4k+1 (49 CogVideoX 1.0, 81 for 1.5)")
    p.add_argument("--fps", type=_fps, default=8.0, help="clip frame rate (8 CogVideoX 1.0, 16 for 1.5) or 'source'")
    p.add_argument("--max-side", type=int, default=720, help="scale clips down to this long side (0 = keep)")
    p.add_argument("--min-motion", type=float, default=0.1,
                   help="drop clips whose mean optical flow is below this, in %% of the long side per frame")
    p.add_argument("--cut-threshold", type=float, default=DEFAULT_THRESHOLD, help="scene-cut threshold 0..1")
    p.add_argument("--margin", type=int, default=2, help="clip-rate frames skipped at each side of a cut")
    p.add_argument("--crf", type=int, default=16, help="H.264 quality of the clips (lower = better)")
    p.add_argument("--caption", default="sidecar", choices=["sidecar", "openai"],
                   help="sidecar = only VIDEO[.sNNN[-NN]].txt files; openai = a vision LLM for clips without one")
    p.add_argument("--llm-url", default=None, help="--caption openai: server URL (default Ollama on 127.0.0.1:11434)")
    p.add_argument("--llm-model", default=DEFAULT_VISION_MODEL, help="--caption openai: a vision model")
    p.add_argument("--llm-key-env", default="", help="--caption openai: NAME of the environment variable holding the key")
    p.add_argument("--llm-timeout", type=float, default=60.0, help="--caption openai: seconds per clip, retries included")
    p.add_argument("--caption-images", type=int, default=4, help="frames of each clip sent to the LLM")
    p.add_argument("--default-caption", default="", help="caption when there is no sidecar and the LLM is off or fails")
    p.add_argument("--force", action="store_true", help="delete the dataset's earlier clips and start over")


def run_prepare_dataset(args) -> int:
    """Run the sub-command from parsed ``args``; prints the manifest path."""
    from ..prompts.expand import LLMSettings
    from ..prompts.http_client import DEFAULT_BASE_URL
    from .caption import Captioner
    from .prepare import PrepareSettings, prepare_dataset

    settings = PrepareSettings(frames=args.frames, fps=args.fps, max_side=args.max_side, min_motion=args.min_motion,
                               cut_threshold=args.cut_threshold, margin=args.margin, crf=args.crf)
    llm = None
    if args.caption == "openai":
        llm = LLMSettings(backend="openai", base_url=args.llm_url or DEFAULT_BASE_URL, model=args.llm_model,
                          api_key_env=args.llm_key_env, timeout=args.llm_timeout, max_tokens=400)
    captioner = Captioner(llm, default=args.default_caption, images=args.caption_images)
    report = prepare_dataset(args.videos, args.output, settings, captioner, force=args.force)
    for d in report.dropped:
        if d["kind"] == "unreadable":
            log.warning("skipped %s: %s", d["source"], d["reason"])
    log.info("%s; dropped clips and why: %s", report.summary(), report.root / "rejected.jsonl")
    print(report.root / "manifest.jsonl")
    return 0
