"""Captions for Open-Sora 1.2: score suffixes, caption cleaning and T5 encoding (300 tokens).

Upstream's inference appends the scores (``aesthetic score: 6.5.``, ``motion score: 4.0.``,
``camera motion: pan left.``), then cleans the caption twice with the DeepFloyd/PixArt cleaner
(lower case, URLs / HTML / handles / CJK / file names / shop spam removed, punctuation tidied), and
encodes it with T5-v1_1-XXL in float32, padded to 300 tokens with the attention mask kept. Our
cleaner implements the same rules with the standard library only (no bs4 / ftfy).
"""
from __future__ import annotations

import html
import logging
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_TOKENS = 300
CAMERA_MOTIONS: tuple[str, ...] = (
    "none", "static", "pan left", "pan right", "tilt up", "tilt down", "zoom in", "zoom out",
)

_URL = re.compile(
    r"\b((?:(?:https?|www):(?:/{1,3}|[a-zA-Z0-9%])|[a-zA-Z0-9.\-]+[.](?:com|co|ru|net|org|edu|gov|it)[\w/-]*\b/?(?!@)))"
)
_BAD_PUNCT = re.compile(r"[#®•©™&@·º½¾¿¡§~)(\]\[}{|\\/*]+")
_DASHES = re.compile(
    "[\u002D\u058A\u05BE\u1400\u1806\u2010-\u2015\u2E17\u2E1A\u2E3A\u2E3B\u2E40\u301C\u3030\u30A0"
    "\uFE31\uFE32\uFE58\uFE63\uFF0D]+"
)
_CJK = re.compile("[\u31c0-\u31ef\u31f0-\u31ff\u3200-\u32ff\u3300-\u33ff\u3400-\u4dbf\u4dc0-\u4dff\u4e00-\u9fff]+")
# (pattern, replacement) applied in order after the HTML/URL/handle pass
_RULES: tuple[tuple[str, str], ...] = (
    (r"[`´«»“”¨]", '"'), (r"[‘’]", "'"), (r"&quot;?", ""), (r"&amp", ""),
    (r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", " "),  # IP addresses
    (r"\d:\d\d\s+$", ""), (r"\\n", " "),
    (r"#\d{1,3}\b", ""), (r"#\d{5,}\b", ""), (r"\b\d{6,}\b", ""),
    (r"[\S]+\.(?:png|jpg|jpeg|bmp|webp|eps|pdf|apk|mp4)", ""),  # file names
    (r"[\"']{2,}", '"'), (r"[\.]{2,}", " "),
)
_RULES_AFTER: tuple[tuple[str, str], ...] = (
    (r"\b[a-zA-Z]{1,3}\d{3,15}\b", ""), (r"\b[a-zA-Z]+\d+[a-zA-Z]+\b", ""), (r"\b\d+[a-zA-Z]+\d+\b", ""),
    (r"(worldwide\s+)?(free\s+)?shipping", ""), (r"(free\s)?download(\sfree)?", ""),
    (r"\bclick\b\s(?:for|on)\s\w+", ""), (r"\b(?:png|jpg|jpeg|bmp|webp|eps|pdf|apk|mp4)(\simage[s]?)?", ""),
    (r"\bpage\s+\d+\b", ""), (r"\b\d*[a-zA-Z]+\d+[a-zA-Z]+\d+[a-zA-Z\d]*\b", " "),
    (r"\b\d+\.?\d*[xх×]\d+\.?\d*\b", ""),  # sizes like 1920x1080
    (r"\b\s+\:\s+", ": "), (r"(\D[,\./])\b", r"\1 "), (r"\s+", " "),
)


def _basic(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return html.unescape(html.unescape(text)).strip()


def clean_caption(caption: str) -> str:
    """One pass of the DeepFloyd/PixArt caption cleaner (upstream applies it twice)."""
    c = urllib.parse.unquote_plus(str(caption)).strip().lower()
    c = c.replace("<person>", "person")
    c = _URL.sub("", c)
    c = re.sub(r"<[^>]*>", "", html.unescape(c))  # HTML tags -> their text
    c = re.sub(r"@[\w\d]+\b", "", c)
    c = _CJK.sub("", c)
    c = _DASHES.sub("-", c)
    for pat, rep in _RULES:
        c = re.sub(pat, rep, c)
    c = _BAD_PUNCT.sub(" ", c)
    c = re.sub(r"\s+\.\s+", " ", c)
    if len(re.findall(r"[-_]", c)) > 3:
        c = re.sub(r"[-_]", " ", c)
    c = _basic(c)
    for pat, rep in _RULES_AFTER:
        c = re.sub(pat, rep, c)
    c = re.sub(r"^[\"']([\w\W]+)[\"']$", r"\1", c)
    c = re.sub(r"^['_,\-:;]", "", c)
    c = re.sub(r"['_,\-:\-+]$", "", c)
    c = re.sub(r"^\.\S+$", "", c)
    return c.strip()


def with_scores(prompt: str, aesthetic: float | None = 6.5, motion: float | None = None,
                camera: str | None = None) -> str:
    """Append Open-Sora's conditioning suffixes (skipping any the prompt already states)."""
    out = prompt
    if aesthetic is not None and "aesthetic score:" not in prompt:
        out = f"{out} aesthetic score: {aesthetic:.1f}."
    if motion is not None and "motion score:" not in prompt:
        out = f"{out} motion score: {motion:.1f}."
    if camera and camera != "none" and "camera motion:" not in prompt:
        out = f"{out} camera motion: {camera}."
    return out


def prepare_caption(prompt: str, aesthetic: float | None = 6.5, motion: float | None = None,
                    camera: str | None = None, clean: bool = True) -> str:
    """Scores appended, then cleaned twice (upstream's order); ``clean=False`` only lower-cases."""
    text = with_scores(prompt, aesthetic, motion, camera)
    return clean_caption(clean_caption(text)) if clean else text.lower().strip()


@dataclass
class EncodedCaption:
    """T5 features ``y`` [B,1,L,C] float32, ``mask`` [B,L] int64, and what was trimmed."""

    y: object
    mask: object
    tokens: int
    trimmed: str = ""


def encode_captions(encoder, tokenizer, captions: list[str], max_length: int = MAX_TOKENS, device=None) -> EncodedCaption:
    """Encode with T5 padded to ``max_length`` tokens; overlong captions are trimmed and reported.

    ``encoder`` is a transformers ``T5EncoderModel`` (run in float32, as upstream), ``tokenizer``
    its tokenizer. ``tokens`` counts the longest caption's tokens before trimming.
    """
    import torch

    full = tokenizer(captions, add_special_tokens=True)["input_ids"]
    longest = max(len(ids) for ids in full)
    trimmed = ""
    if longest > max_length:
        ids = max(full, key=len)
        trimmed = tokenizer.decode(ids[max_length - 1:], skip_special_tokens=True)
        log.warning("caption has %d tokens, Open-Sora reads %d: trimmed %r", longest, max_length, trimmed[:200])
    batch = tokenizer(captions, max_length=max_length, padding="max_length", truncation=True,
                      return_attention_mask=True, add_special_tokens=True, return_tensors="pt")
    device = device or next(encoder.parameters()).device
    ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
    with torch.no_grad():
        y = encoder(input_ids=ids, attention_mask=mask)["last_hidden_state"].float()
    return EncodedCaption(y=y[:, None], mask=mask, tokens=longest, trimmed=trimmed)
