"""Rule-based English expansion: what we produce when no LLM answers (or by choice).

It builds a caption in the style the video models were trained on from the user's words
(Chinese translated through a small phrase table), the chosen action preset, camera and style:
the first frame is kept, the motion is described, then expression, hair and clothes, camera,
lighting and style. Deterministic and offline.
"""
from __future__ import annotations

import re

from . import presets
from .zh_phrases import translate_zh

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")
_SUBJECT_START = {
    "she", "he", "they", "the", "a", "an", "her", "his", "their", "my", "this", "that", "it", "i",
    "we", "you", "one", "two", "girl", "boy", "character",
}
_FEMALE = re.compile(r"\b(she|her|girl|woman|lady|princess|queen|maid|sister)\b", re.I)
_MALE = re.compile(r"\b(he|his|him|boy|man|prince|king|knight|brother)\b", re.I)
_EMOTION = re.compile(r"\b(smil|laugh|cr(y|ies)|tear|angry|furious|sad|happy|joy|blush|surpris|scared|"
                      r"nervous|calm|gentle|smug|bored|sleepy|expression)", re.I)
MAX_USER_WORDS = 100


def _pronouns(subject: str) -> tuple[str, str]:
    if re.fullmatch(r"she|the (girl|woman|princess|cat girl|fairy)", subject):
        return "she", "her"
    if re.fullmatch(r"he|the (boy|man|knight)", subject):
        return "he", "his"
    if subject == "they":
        return "they", "their"
    return "the character", "their"


def _sentence(s: str) -> str:
    s = " ".join(s.split()).strip()
    if not s:
        return ""
    s = s[0].upper() + s[1:]
    return s if s[-1] in ".!?" else s + "."


def english_from_user(text: str) -> tuple[str, str | None, list[str]]:
    """The user's words as an English clause, the subject we found (or None), and notes."""
    notes: list[str] = []
    text = " ".join(text.split())
    if not _CJK.search(text):
        words = text.split()
        if len(words) > MAX_USER_WORDS:
            notes.append(f"input cut to its first {MAX_USER_WORDS} words")
            text = " ".join(words[:MAX_USER_WORDS])
        subject = "she" if _FEMALE.search(text) else ("he" if _MALE.search(text) else None)
        return text.rstrip(" .,;"), subject, notes
    subject, preds, advs, unknown = translate_zh(text)
    latin = " ".join(re.findall(r"[A-Za-z][A-Za-z' -]*[A-Za-z]|[A-Za-z]", text)).strip()
    if unknown:
        notes.append("untranslated: " + "".join(unknown[:20]))
    clause = " and ".join(preds)
    if subject in ("he", "the boy", "the man", "the knight"):
        clause = clause.replace(" her ", " his ").replace(" her", " his")
    if clause and advs:
        clause += " " + " ".join(advs)
    if latin:
        clause = (clause + ", " + latin) if clause else latin
    if clause:
        clause = f"{subject or 'the character'} {clause}"
    return clause, subject, notes


def fallback_expand(text: str, action: str = "none", camera: str = "static", style: str = "anime") -> tuple[str, list[str]]:
    """An English caption from the user's words + presets, and notes on what was lost."""
    act = presets.action(action)
    cam = presets.camera(camera)
    style_text = presets.style(style)
    clause, subject, notes = english_from_user(text)
    if subject is None:
        subject = "the character"
    subj, pos = _pronouns(subject.lower())
    fmt = {"subj": subj, "Subj": subj[0].upper() + subj[1:], "pos": pos}
    noun = subject if subject.startswith("the ") else "the character"

    out = [f"{noun[0].upper() + noun[1:]} from the first frame comes to life in one smooth, continuous "
           "shot, keeping the same design, outfit and background."]
    if clause:
        first = clause.split()[0].lower()
        if first not in _SUBJECT_START and not clause[0].isupper():
            clause = f"{subj} {clause}"
        out.append(_sentence(clause))
    if act.motion:
        out.append(act.motion.format(**fmt))
    if not clause and not act.motion:
        out.append(presets.ACTIONS["idle"].motion.format(**fmt))
    if not _EMOTION.search(clause):
        out.append(f"{pos[0].upper() + pos[1:]} expression stays lively and natural, with soft blinks.")
    out.append(f"{pos[0].upper() + pos[1:]} hair and clothes sway gently with the movement.")
    out.append(cam.hint)
    light = "The lighting stays soft and consistent with the first frame"
    out.append(f"{light}, {style_text}." if style_text else light + ".")
    out.append("Fluid, natural motion with no scene cuts.")
    return " ".join(s for s in out if s), notes
