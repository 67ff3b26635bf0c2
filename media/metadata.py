"""Metadata written into video files: secrets removed, encoded for ffmpeg's ffmetadata input.

ComfyUI passes the whole prompt graph (every node's inputs) and the UI workflow to save nodes.
A graph may carry an API key typed into a node (e.g. an LLM prompt-expansion node), so before
anything is written we drop values under secret-looking names (``api_key``, ``token``,
``password``, ...), then redact those exact strings wherever else they appear (the UI workflow
stores widget values without names), anything shaped like a bearer token or an ``sk-`` key, and
passwords in URLs (``https://user:pass@host``).
"""
from __future__ import annotations

import json
import re
from typing import Any

REDACTED = "<redacted>"
_SECRET_NAME = re.compile(r"(api[_-]?key|apikey|secret|token|passw(or)?d|authorization|auth[_-]?header|credential)",
                          re.IGNORECASE)
_SECRET_VALUE = re.compile(
    r"(\bsk-[A-Za-z0-9_\-]{12,}|\bBearer\s+[A-Za-z0-9._\-]{8,}|\bhf_[A-Za-z0-9]{20,}|\bAIza[0-9A-Za-z_\-]{30,}"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}|\bxox[baprs]-[A-Za-z0-9\-]{10,})"
)
#: ``scheme://user:password@`` -> ``scheme://<redacted>@``
_URL_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.\-]*://)[^/\s@]+@", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True for key names that hold credentials (``api_key``, ``openai_token``, ``password`` ...).

    ``max_tokens`` (a count) and ``api_key_env`` (the NAME of an environment variable) are not secrets.
    """
    return bool(_SECRET_NAME.search(name)) and not name.lower().endswith(("tokens", "_env"))


def _collect(obj: Any, found: set[str]) -> Any:
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(k, str) and is_secret_name(k) and isinstance(v, str):
                if v:
                    found.add(v)
                    out[k] = REDACTED
                else:
                    out[k] = v
            else:
                out[k] = _collect(v, found)
        return out
    if isinstance(obj, (list, tuple)):
        return [_collect(v, found) for v in obj]
    return obj


def _redact(obj: Any, secrets: set[str]) -> Any:
    if isinstance(obj, str):
        for s in secrets:
            if len(s) >= 4:
                obj = obj.replace(s, REDACTED)
        obj = _URL_USERINFO.sub(r"\1" + REDACTED + "@", obj)
        return _SECRET_VALUE.sub(REDACTED, obj)
    if isinstance(obj, dict):
        return {k: _redact(v, secrets) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_redact(v, secrets) for v in obj]
    return obj


def scrub_secrets(metadata: dict[str, Any]) -> dict[str, str]:
    """Copy of ``metadata`` as ``{key: str}`` without credentials (input is not modified).

    Non-string values are JSON-encoded. Keys with secret-looking names are dropped at the top
    level and redacted inside nested graphs.
    """
    found: set[str] = set()
    cleaned = _collect(dict(metadata), found)
    cleaned = _redact(cleaned, found)
    out: dict[str, str] = {}
    for k, v in cleaned.items():
        if is_secret_name(str(k)):
            continue
        out[str(k)] = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    return out


def _escape(text: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", text)


def ffmetadata_text(metadata: dict[str, str]) -> str:
    """The ffmetadata file body (``;FFMETADATA1`` + escaped ``key=value`` lines)."""
    lines = [";FFMETADATA1"]
    for k, v in metadata.items():
        key = re.sub(r"[^A-Za-z0-9_]", "_", k) or "key"
        lines.append(f"{_escape(key)}={_escape(v)}")
    return "\n".join(lines) + "\n"
