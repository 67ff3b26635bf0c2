"""Text-token budgets per model family, and trimming a prompt to fit on sentence boundaries.

Reusable by the samplers::

    from ..prompts.budget import fit_to_budget, opensora_suffix
    text, report = fit_to_budget(prompt, "cogvideox", tokenizer=components["tokenizer"])
    text, report = fit_to_budget(prompt, "opensora", tokenizer=tok,
                                 suffix=opensora_suffix(6.5, motion_score=None, camera_motion="static"))
    if report.trimmed: log.warning(report.summary())

Counts include the end-of-sequence token (T5 appends ``</s>``), matching the encoders'
``max_sequence_length`` (CogVideoX 226, CogVideoX 1.5 224, ST-DiT 300, Wan's umT5 512; umT5 also
appends ``</s>``, so its tokenizer is counted the same way). Without a tokenizer a
conservative estimate (never lower than T5's count on ordinary English) is used instead.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import MotionComicError

#: Text-token budget (incl. EOS) of each family's text encoder.
FAMILY_BUDGETS: dict[str, int] = {"cogvideox": 226, "cogvideox-1.5": 224, "opensora": 300, "wan": 512}

#: Room the expand node keeps free for the ST-DiT score suffixes the sampler appends later.
OPENSORA_SUFFIX_RESERVE = " aesthetic score: 6.5. motion score: 10.0. camera motion: zoom out."

_SUFFIX_RE = re.compile(
    r"\s*(aesthetic score|motion score)\s*:\s*[0-9.]+\.?|\s*camera motion\s*:\s*[a-z ,]+\.?", re.I
)
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")
_PIECE_RE = re.compile(r"[A-Za-z]+|[0-9]+|[^\sA-Za-z0-9]")


@dataclass(frozen=True)
class BudgetReport:
    """What fitting did: token counts before/after, the limit, and how tokens were counted."""

    family: str
    limit: int
    tokens_before: int
    tokens_after: int
    measured: bool  # True: real tokenizer; False: conservative estimate
    dropped_sentences: int = 0
    cut_words: bool = False  # the last kept sentence had to be cut inside

    @property
    def trimmed(self) -> bool:
        return self.dropped_sentences > 0 or self.cut_words

    def summary(self) -> str:
        how = "T5 tokens" if self.measured else "tokens (estimated)"
        s = f"{self.tokens_after}/{self.limit} {how}"
        if self.trimmed:
            s += f", trimmed from {self.tokens_before}"
            if self.dropped_sentences:
                s += f" ({self.dropped_sentences} sentence(s) dropped)"
        return s


def family_budget(family: str) -> int:
    try:
        return FAMILY_BUDGETS[family]
    except KeyError:
        raise MotionComicError(
            f"Unknown model family {family!r}; choose one of {', '.join(FAMILY_BUDGETS)}"
        ) from None


def estimate_tokens(text: str) -> int:
    """Conservative T5 token count without a tokenizer: words cost ceil(len/4), every other
    character (punctuation, CJK) one token, plus EOS."""
    n = 1
    for piece in _PIECE_RE.findall(text):
        n += math.ceil(len(piece) / 4) if piece.isalpha() and piece.isascii() else (
            math.ceil(len(piece) / 2) if piece.isdigit() else 1
        )
    return n


def count_tokens(text: str, tokenizer: Any = None) -> int:
    """Tokens of ``text`` including EOS: with ``tokenizer`` (a transformers tokenizer, or any
    object whose ``encode`` returns ids with special tokens) measured, else estimated."""
    if tokenizer is None:
        return estimate_tokens(text)
    if callable(tokenizer):
        out = tokenizer(text, add_special_tokens=True)
        ids = out["input_ids"] if isinstance(out, dict) or hasattr(out, "keys") else out
        return len(ids)
    return len(tokenizer.encode(text))


def opensora_suffix(
    aesthetic_score: float | None = 6.5, motion_score: float | None = None, camera_motion: str | None = None
) -> str:
    """The ST-DiT score suffix, e.g. ``" aesthetic score: 6.5. camera motion: static."``."""
    s = ""
    if aesthetic_score is not None:
        s += f" aesthetic score: {aesthetic_score:.1f}."
    if motion_score is not None:
        s += f" motion score: {motion_score:.1f}."
    if camera_motion:
        s += f" camera motion: {camera_motion.strip().rstrip('.')}."
    return s


def strip_score_suffixes(text: str) -> str:
    """Remove ``aesthetic score: x.`` / ``motion score: x.`` / ``camera motion: ...`` parts."""
    return _SUFFIX_RE.sub("", text).strip()


def split_sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SENTENCE_RE.split(text.strip())) if s]


def fit_to_budget(
    text: str,
    family: str,
    tokenizer: Any = None,
    *,
    suffix: str = "",
    limit: int | None = None,
) -> tuple[str, BudgetReport]:
    """Fit ``text + suffix`` into the family's token budget (or ``limit``), trimming ``text`` on
    sentence boundaries; only when the first sentence alone is too long is it cut at a word.

    Returns the final string (body + suffix) and a :class:`BudgetReport`. Idempotent: score
    suffixes already in ``text`` are removed when a new ``suffix`` is given, and a text that fits
    is returned unchanged (whitespace normalised).
    """
    budget = limit if limit is not None else family_budget(family)
    body = " ".join(text.split())
    if suffix:
        body = strip_score_suffixes(body)
    measured = tokenizer is not None

    def total(b: str) -> int:
        return count_tokens((b + suffix).strip(), tokenizer)

    before = total(body)
    if before <= budget:
        return (body + suffix).strip(), BudgetReport(family, budget, before, before, measured)
    if count_tokens(suffix.strip() or "", tokenizer) >= budget:
        raise MotionComicError(f"The prompt suffix {suffix!r} alone exceeds the {budget}-token budget.")

    sentences = split_sentences(body)
    kept: list[str] = []
    for s in sentences:
        if total(" ".join(kept + [s])) > budget:
            break
        kept.append(s)
    cut = False
    if not kept:  # first sentence alone is too long: keep as many words as fit (binary search)
        words = sentences[0].split() if sentences else body.split()
        lo, hi = 0, len(words)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            cand = " ".join(words[:mid]).rstrip(",;:") + "."
            if total(cand) <= budget:
                lo = mid
            else:
                hi = mid - 1
        kept = [" ".join(words[:lo]).rstrip(",;:") + "."] if lo else []
        cut = True
    out = " ".join(kept)
    after = total(out)
    dropped = len(sentences) - (1 if cut else len(kept))
    report = BudgetReport(family, budget, before, after, measured, max(dropped, 0), cut)
    return (out + suffix).strip(), report
