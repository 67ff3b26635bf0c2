"""Captions for training clips: a sidecar text file beside the video, else a vision LLM.

Sidecars (the most specific one wins; UTF-8, whitespace collapsed, an empty file counts as none):

- ``<video stem>.s003-01.txt``: clip 1 of shot 3 (the last part of the clip id),
- ``<video stem>.s003.txt``: every clip of shot 3,
- ``<video stem>.txt``: every clip of the video.

The LLM is any OpenAI-compatible vision server (Ollama, vLLM, LM Studio, hosted), reached through
the prompt expander's client (:func:`..prompts.http_client.chat_completion`) and its API-key rule
(:func:`..prompts.expand.check_api_key_env`: the NAME of an environment variable, never a key), so
the owner's policy (``prompts/policy.py``: allowed key variables, allowed hosts, each key only
to loopback or over https to the hosts it is bound to) applies here too; a
:class:`~..prompts.policy.PolicyError` stops the run instead of falling back. A few frames of the
clip go in one user message as base64 PNG ``image_url`` parts. Any other LLM failure falls back to
``default`` and records why (``caption_source = "fallback"``).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import host
from ..errors import MotionComicError

log = logging.getLogger(__name__)

SIDECAR_MAX_BYTES = 64 * 1024
DEFAULT_VISION_MODEL = "qwen2.5vl:7b"

SYSTEM_PROMPT = (
    "You write training captions for a video generation model. You are shown frames of ONE short "
    "animated clip, in time order. Write one English paragraph of 40 to 120 words that describes: "
    "the subject (who or what, appearance, hair, clothes, colours), what moves and how from the "
    "first frame to the last, the camera (static, pan, zoom, tilt), the setting and the drawing "
    "style. Describe only what is visible. Do not describe text, subtitles or speech bubbles, do "
    "not number the frames, do not add a preamble, a title or a list. Answer with the paragraph only."
)


@dataclass(frozen=True)
class Caption:
    text: str
    source: str  # sidecar | llm | fallback | none
    error: str = ""


def sidecar_for(video: Path, clip_suffix: str, shot: int) -> Path | None:
    """The sidecar caption file of a clip (``clip_suffix`` like ``s003-01``), or None."""
    for name in (f"{video.stem}.{clip_suffix}.txt", f"{video.stem}.s{shot:03d}.txt", f"{video.stem}.txt"):
        p = video.with_name(name)
        if p.is_file() and _read_sidecar(p):
            return p
    return None


def _read_sidecar(p: Path) -> str:
    try:
        with open(p, "rb") as f:
            raw = f.read(SIDECAR_MAX_BYTES + 1)
    except OSError as exc:
        raise MotionComicError(f"cannot read the caption file {p}: {exc}") from exc
    if len(raw) > SIDECAR_MAX_BYTES:
        raise MotionComicError(f"the caption file {p} is over {SIDECAR_MAX_BYTES // 1024} KiB: "
                               "a caption is one paragraph")
    return " ".join(raw.decode("utf-8", "replace").split())


def pick_frames(n: int, count: int) -> list[int]:
    """``count`` frame indices spread evenly over ``n`` frames, first and last included."""
    count = max(1, min(int(count), n))
    if count == 1:
        return [0]
    return sorted({round(i * (n - 1) / (count - 1)) for i in range(count)})


class Captioner:
    """Captions clips: sidecar first, then the LLM (``llm`` = None: none asked), then ``default``.

    Args:
        llm: :class:`..prompts.expand.LLMSettings` of an OpenAI-compatible vision server, or None.
        default: the caption used when there is no sidecar and the LLM is off or failed.
        images: how many frames of each clip are sent (spread evenly, first and last included).
        image_side: long side of each frame sent, in pixels.
    """

    def __init__(self, llm=None, default: str = "", images: int = 4, image_side: int = 512):
        from ..prompts.expand import check_api_key_env

        if llm is not None and llm.backend != "openai":
            raise MotionComicError(f"captions need an OpenAI-compatible vision server (backend 'openai'), "
                                   f"not {llm.backend!r}")
        if images < 1 or images > 16:
            raise MotionComicError(f"--caption-images must be 1..16, got {images}")
        self.llm = llm
        self.key_name = check_api_key_env(llm.api_key_env) if llm is not None else ""
        if llm is not None:
            from ..prompts.policy import check_url

            check_url(llm.base_url)  # credentials in the URL, not http(s): refused before anything is cut
        self.default = " ".join((default or "").split())
        self.images = int(images)
        self.image_side = int(image_side)

    def caption(self, video: Path, clip_suffix: str, shot: int, frames: Sequence[np.ndarray]) -> Caption:
        """Caption one clip; ``frames`` are its uint8 ``[H, W, 3]`` frames in order."""
        side = sidecar_for(video, clip_suffix, shot)
        if side is not None:
            return Caption(_read_sidecar(side), "sidecar")
        if self.llm is None:
            return Caption(self.default, "none")
        from ..prompts.http_client import LLMError
        from ..prompts.policy import PolicyError

        try:
            return Caption(self._ask(frames), "llm")
        except Exception as exc:  # any failure falls back; cancel and the owner's policy stop the run
            if isinstance(exc, (*host.cancel_exceptions(), PolicyError)):
                raise
            if not isinstance(exc, LLMError):
                log.exception("clip caption: unexpected error")
            msg = str(exc) or type(exc).__name__
            log.warning("caption of %s %s: the LLM failed (%s); using the default caption", video.name,
                        clip_suffix, msg)
            return Caption(self.default, "fallback", msg)

    def _ask(self, frames: Sequence[np.ndarray]) -> str:
        from ..prompts.clean import clean_reply, problem_with
        from ..prompts.expand import image_png
        from ..prompts.http_client import LLMError, chat_completion, image_data_url

        s = self.llm
        if not s.model:
            raise LLMError("no model name given (--llm-model)", retryable=False)
        api_key = None
        if self.key_name:
            api_key = os.environ.get(self.key_name)
            if not api_key:
                raise LLMError(f"environment variable {self.key_name} is not set", retryable=False)
        idx = pick_frames(len(frames), self.images)
        parts: list[dict] = [{"type": "text", "text": (
            f"{len(idx)} frames (numbers {', '.join(str(i + 1) for i in idx)}) of a {len(frames)}-frame clip. "
            "Caption the clip.")}]
        for i in idx:
            parts.append({"type": "image_url",
                          "image_url": {"url": image_data_url(image_png(frames[i], self.image_side))}})
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": parts}]
        reply = chat_completion(s.base_url, s.model, messages, api_key=api_key, api_key_env=self.key_name,
                                timeout=s.timeout,
                                retries=s.retries, backoff=s.backoff, temperature=s.temperature,
                                top_p=s.top_p, seed=s.seed, max_tokens=s.max_tokens)
        text = clean_reply(reply)
        problem = problem_with(text)
        if problem:
            raise LLMError(problem)
        return text
