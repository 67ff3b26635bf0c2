"""Cleaning LLM replies into a bare caption, and checking the result is usable.

Chat models wrap answers in reasoning tags (``<think>…</think>``), preambles ("Here is the
expanded prompt:"), quotes, markdown and sign-offs. We strip all of that; what remains must be a
non-trivial English paragraph, else the caller falls back to the rule-based expansion.
"""
from __future__ import annotations

import re

_REASONING = re.compile(
    r"<(think|thinking|reasoning|reflection|analysis)>.*?</\1>", re.S | re.I
)
_UNCLOSED_OPEN = re.compile(r"<(think|thinking|reasoning|reflection|analysis)>.*\Z", re.S | re.I)
_ORPHAN_CLOSE = re.compile(r"\A.*?</(think|thinking|reasoning|reflection|analysis)>", re.S | re.I)
_SPECIAL = re.compile(r"<\|[^|>]{1,40}\|>|</?s>")
_FENCE = re.compile(r"```[a-zA-Z]*\n?|```")
_PREAMBLE = re.compile(
    r"\A\s*(?:(?:sure|okay|ok|certainly|of course|absolutely|great)[!,.]?\s*)?"
    r"(?:here(?:'s| is| are)\b[^:\n]{0,80}:|(?:the )?(?:expanded|enhanced|rewritten|final|refined)?"
    r"\s*(?:prompt|caption|description)\s*:)\s*",
    re.I,
)
_SIGNOFF = re.compile(
    r"\n+\s*(?:let me know|i hope|feel free|note:|this (?:prompt|description) )[^\n]*\Z", re.I
)
_IMAGE_SHOWS = re.compile(r"\A(?:the|this) (?:image|picture|frame) (?:shows|depicts|features)\s+", re.I)
_QUOTES = [('"', '"'), ("'", "'"), ("\u201c", "\u201d"), ("\u2018", "\u2019"), ("\u300c", "\u300d"), ("`", "`")]
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")


def clean_reply(text: str) -> str:
    """Return the caption inside an LLM reply (may be empty if the reply was only reasoning)."""
    t = _REASONING.sub("", text or "")
    t = _ORPHAN_CLOSE.sub("", t)  # reasoning whose opening tag was in the template
    t = _UNCLOSED_OPEN.sub("", t)  # reasoning cut off by the token limit: nothing usable after
    t = _SPECIAL.sub("", t)
    t = _FENCE.sub("", t)
    t = _SIGNOFF.sub("", t.strip())
    for _ in range(2):  # "Sure! Here is the prompt:\n\n**Prompt:** ..."
        t = re.sub(r"^\s*#+\s*", "", t, flags=re.M)  # markdown headings
        t = t.replace("**", "").replace("__", "")
        t = _PREAMBLE.sub("", t.strip())
    t = re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s+", "", t, flags=re.M)  # list markers
    t = " ".join(t.split())
    for _ in range(2):
        for a, b in _QUOTES:
            if len(t) >= 2 and t.startswith(a) and t.endswith(b):
                t = t[1:-1].strip()
    t = _IMAGE_SHOWS.sub("", t)
    if t and t[0].islower():
        t = t[0].upper() + t[1:]
    return t


def problem_with(caption: str, min_words: int = 8) -> str | None:
    """Why ``caption`` is unusable (None when it is fine): empty, too short, or not English."""
    if not caption:
        return "empty reply"
    cjk = len(_CJK.findall(caption))
    if cjk > 0.05 * len(caption):
        return "reply is not in English"
    words = caption.split()
    if len(words) < min_words:
        return f"reply too short ({len(words)} words)"
    return None
