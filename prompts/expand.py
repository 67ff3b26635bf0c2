"""Expand a short request into an image-to-video caption: LLM (HTTP or local) → clean → budget,
with a cache in front and the rule-based expansion behind, so a prompt always comes out.

``expand_prompt`` never raises for LLM trouble (server down, timeout, HTTP error, bad reply):
it falls back and says so in ``Expansion.status``. It raises :class:`MotionComicError` only for
input the user must fix (empty request, an API key typed where the variable NAME belongs).
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import time
from dataclasses import dataclass
from typing import Any

from .. import host
from ..errors import MotionComicError
from . import policy, presets
from .budget import FAMILY_BUDGETS, OPENSORA_SUFFIX_RESERVE, BudgetReport, fit_to_budget
from .cache import PromptCache, cache_key, default_cache
from .clean import clean_reply, problem_with
from .fallback import fallback_expand
from .http_client import DEFAULT_BASE_URL, LLMError, chat_completion, user_content
from .system_prompts import VERSION, system_prompt, user_request

log = logging.getLogger(__name__)

BACKENDS = ("openai", "local", "rules")
MAX_INPUT_CHARS = 2000
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: The shapes of real keys, case-sensitive: providers' prefixes are lower case and followed by many
#: characters (``hf_AbC…``, ``sk-proj-…``), so the variable name ``HF_TOKEN`` is not one of them.
_KEY_SHAPE = re.compile(
    # OpenAI-style, Groq, Hugging Face, xAI, GitHub, GitLab
    r"(?:sk|gsk|hf|xai|ghp|gho|ghu|ghs|ghr|github_pat|glpat)[-_][A-Za-z0-9_-]{8,}"
    r"|AIza[A-Za-z0-9_-]{30,}"  # Google API keys
    r"|A[KS]IA[A-Z0-9]{16}")  # AWS access key ids


@dataclass(frozen=True)
class LLMSettings:
    """Where and how to ask the LLM. ``api_key_env`` is the NAME of an environment variable."""

    backend: str = "openai"  # openai-compatible HTTP | local transformers | rules (no LLM)
    base_url: str = DEFAULT_BASE_URL
    model: str = "qwen2.5:7b"
    api_key_env: str = ""
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.5  # first retry delay in seconds, doubled each time
    seed: int = 0
    temperature: float = 0.1
    top_p: float = 0.7
    max_tokens: int = 600  # the caption needs ~200; room for models that reason first
    send_image: bool = True
    device: str = "auto"
    dtype: str = "auto"


@dataclass(frozen=True)
class Expansion:
    prompt: str
    source: str  # llm | local | cache | rules | fallback
    status: str
    report: BudgetReport


def family_of(video_model: Any, family: str = "cogvideox") -> tuple[str, int | None, Any]:
    """(family, token limit, tokenizer) of a loaded ``VideoModel`` (or ``family`` when None), so an
    expansion is measured with the model's own tokenizer and budget."""
    if video_model is None:
        return family, None, None
    limit = int(getattr(video_model, "text_tokens", 0)) or None
    if video_model.family in ("opensora", "wan"):
        fam = video_model.family
    else:
        fam = "cogvideox-1.5" if limit == FAMILY_BUDGETS["cogvideox-1.5"] else "cogvideox"
    return fam, limit, video_model.components.get("tokenizer")


def check_api_key_env(name: str) -> str:
    """Validate the variable NAME; refuse anything that looks like a key pasted into the field."""
    name = name.strip()
    if not name:
        return ""
    looks_like_key = (
        not _ENV_NAME.fullmatch(name)
        or _KEY_SHAPE.match(name)
        or (len(name) >= 24 and any(c.islower() for c in name) and any(c.isdigit() for c in name))
    )
    if looks_like_key:
        raise MotionComicError(
            "api_key_env takes the NAME of an environment variable (e.g. OPENAI_API_KEY), not the "
            "key itself. Remove the key from the node (it would be saved in the workflow and the "
            "PNG), set it in ComfyUI's environment and type the variable's name here."
        )
    return policy.check_key_env(name)


def image_fingerprint(image: Any) -> str:
    """SHA-256 of an HxWxC array (float 0..1 or uint8) including its shape and dtype."""
    import numpy as np

    arr = np.ascontiguousarray(image)
    h = hashlib.sha256(f"{arr.shape}{arr.dtype}".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def image_png(image: Any, max_side: int = 768) -> bytes:
    """PNG bytes of an HxWxC image (float 0..1 or uint8), long side at most ``max_side``."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    pil = Image.fromarray(arr[:, :, :3] if arr.ndim == 3 else arr)
    if max(pil.size) > max_side:
        pil.thumbnail((max_side, max_side), Image.LANCZOS)
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


def _fit(text: str, family: str, tokenizer: Any, limit: int | None) -> tuple[str, BudgetReport]:
    """Fit to the budget; for ST-DiT keep room for the score suffixes the sampler appends."""
    if family != "opensora":
        return fit_to_budget(text, family, tokenizer, limit=limit)
    try:
        out, report = fit_to_budget(text, family, tokenizer, suffix=OPENSORA_SUFFIX_RESERVE, limit=limit)
    except MotionComicError:  # a tiny text budget (test models): no room to keep for suffixes
        return fit_to_budget(text, family, tokenizer, limit=limit)
    return out[: len(out) - len(OPENSORA_SUFFIX_RESERVE.strip())].strip(), report


def _ask(settings: LLMSettings, messages: list[dict], api_key: str | None, key_name: str = "") -> str:
    if settings.backend == "local":
        from .local_llm import generate_local

        return generate_local(
            settings.model, messages, max_new_tokens=settings.max_tokens,
            temperature=settings.temperature, top_p=settings.top_p, seed=settings.seed,
            device=settings.device, dtype=settings.dtype,
        )
    return chat_completion(
        settings.base_url, settings.model, messages, api_key=api_key, api_key_env=key_name, timeout=settings.timeout,
        retries=settings.retries, backoff=settings.backoff, temperature=settings.temperature, top_p=settings.top_p,
        seed=settings.seed, max_tokens=settings.max_tokens,
    )


def expand_prompt(
    text: str,
    *,
    family: str = "cogvideox",
    action: str = "none",
    camera: str = "static",
    style: str = "anime",
    image: Any = None,
    settings: LLMSettings = LLMSettings(),
    tokenizer: Any = None,
    limit: int | None = None,
    cache: PromptCache | None = None,
) -> Expansion:
    """Expand ``text`` for ``family`` (cogvideox / cogvideox-1.5 / opensora).

    ``image``: the reference (first frame) as HxWxC float 0..1 or uint8, or None. ``tokenizer``:
    the family's T5 tokenizer for exact counts (else estimated). ``limit`` overrides the family's
    token budget. For ST-DiT the result leaves room for the score suffixes.
    """
    if settings.backend not in BACKENDS:
        raise MotionComicError(f"Unknown backend {settings.backend!r}; choose one of {', '.join(BACKENDS)}")
    # unknown preset names raise here, before any network call
    presets.action(action)
    presets.camera(camera)
    presets.style(style)
    text = (text or "").strip()
    if not text and action == "none":
        raise MotionComicError(
            "The prompt is empty: type a few words (any language, e.g. 'she waves') or choose an "
            "action preset."
        )
    notes: list[str] = []
    if len(text) > MAX_INPUT_CHARS:
        notes.append(f"input cut from {len(text)} to {MAX_INPUT_CHARS} characters")
        text = text[:MAX_INPUT_CHARS]
    key_name = check_api_key_env(settings.api_key_env)
    url = policy.redact_url(settings.base_url) if settings.backend == "openai" else ""
    if settings.backend == "openai":
        policy.check_url(settings.base_url)  # credentials in the URL, not http(s): refused before anything
    cache = cache if cache is not None else default_cache()

    def done(caption: str, source: str, head: str) -> Expansion:
        out, report = _fit(caption, family, tokenizer, limit)
        status = " · ".join([head, *notes, f"{family}: {report.summary()}"])
        log.info("expand prompt: %s", status)
        return Expansion(out, source, status, report)

    if settings.backend == "rules":
        caption, more = fallback_expand(text, action, camera, style)
        notes += more
        return done(caption, "rules", "rules: rule-based expansion (no LLM)")

    send_image = image is not None and settings.send_image and settings.backend == "openai"
    key = cache_key(
        text=text, image=image_fingerprint(image) if send_image else None, backend=settings.backend,
        base_url=url.rstrip("/"),
        model=settings.model, family=family, action=action, camera=camera, style=style,
        seed=settings.seed, temperature=round(settings.temperature, 4), top_p=settings.top_p,
        max_tokens=settings.max_tokens, version=VERSION,
    )
    where = settings.model if settings.backend == "local" else f"{settings.model} at {url}"
    hit = cache.get(key)
    if hit is not None:
        return done(hit, "cache", f"cache: reused the {settings.backend} answer of {where}")
    if image is not None and not send_image and settings.backend == "local":
        notes.append("image not sent (local backend is text-only)")

    t0 = time.monotonic()
    try:
        if not settings.model:
            raise LLMError("no model name given (the 'model' input is empty)", retryable=False)
        api_key = None
        if key_name:
            api_key = os.environ.get(key_name)
            if not api_key:
                raise LLMError(f"environment variable {key_name} is not set", retryable=False)
        messages = [
            {"role": "system", "content": system_prompt(family, camera, style, has_image=send_image)},
            {"role": "user", "content": user_content(
                user_request(text, action), image_png(image) if send_image else None)},
        ]
        reply = _ask(settings, messages, api_key, key_name)
        caption = clean_reply(reply)
        problem = problem_with(caption)
        if problem:
            raise LLMError(problem)
    except Exception as exc:  # ANY failure falls back; cancel and the owner's policy still stop the run
        if isinstance(exc, (*host.cancel_exceptions(), policy.PolicyError)):
            raise
        if not isinstance(exc, LLMError):
            log.exception("prompt expansion: unexpected error")
            exc = LLMError(f"{type(exc).__name__}: {exc}")
        caption, more = fallback_expand(text, action, camera, style)
        notes += more
        log.warning("prompt expansion: LLM failed (%s); using the rule-based expansion", exc)
        return done(caption, "fallback", f"fallback: rule-based expansion, because {settings.backend} "
                    f"LLM {where} failed after {time.monotonic() - t0:.1f} s: {exc}")
    cache.put(key, caption)
    source = "local" if settings.backend == "local" else "llm"
    return done(caption, source, f"{source}: expanded by {where} in {time.monotonic() - t0:.1f} s")
