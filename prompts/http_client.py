"""A small OpenAI-compatible chat-completions client on the standard library (``http.client``).

Works with Ollama (``http://127.0.0.1:11434/v1``), vLLM, llama.cpp's server, LM Studio and hosted
services. ``timeout`` bounds the WHOLE call including retries and back-off, so a dead server costs
at most that long. Errors are raised as :class:`LLMError` with a message fit for a status line.
"""
from __future__ import annotations

import base64
import http.client
import json
import logging
import socket
import ssl
import time
import urllib.parse
import urllib.request
from typing import Any

from . import policy

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"


class LLMError(RuntimeError):
    """The LLM could not give an answer (connection, timeout, HTTP error, bad reply)."""

    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


def image_data_url(png_bytes: bytes) -> str:
    """A ``data:image/png;base64,...`` URL for the OpenAI content-parts image format."""
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")


def user_content(text: str, png_bytes: bytes | None = None) -> Any:
    """A user message's content: plain text, or text + image parts for vision models."""
    if png_bytes is None:
        return text
    return [
        {"type": "text", "text": text},
        {"type": "image_url", "image_url": {"url": image_data_url(png_bytes)}},
    ]


def _endpoint(base_url: str) -> tuple[urllib.parse.SplitResult, str, int, str]:
    """(checked URL parts, host, port, path); refuses URLs the owner's policy forbids outright."""
    parts = policy.check_url(base_url.rstrip("/") if isinstance(base_url, str) else "")
    path = parts.path.rstrip("/")
    if not path.endswith("/chat/completions"):
        path += "/chat/completions"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts, parts.hostname, port, path


def _proxy_for(scheme: str, host: str) -> tuple[str, int] | None:
    """The (host, port) of the HTTP(S)_PROXY to use for ``host``, honouring NO_PROXY; local
    servers are always reached directly."""
    if host in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
        return None
    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
    return (parts.hostname, parts.port or 80) if parts.hostname else None


def _post(parts: urllib.parse.SplitResult, host: str, port: int, path: str, body: bytes, headers: dict,
          deadline: float, key_env: str = "") -> tuple[int, bytes]:
    scheme = parts.scheme
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise LLMError("timed out")
    proxy = _proxy_for(scheme, host)
    if proxy is None:
        policy.resolve_checked(parts)
    else:
        policy.check_via_proxy(parts)
    if proxy is not None and scheme == "http":  # plain HTTP through a proxy: absolute URL
        conn: http.client.HTTPConnection = http.client.HTTPConnection(*proxy, timeout=remaining)
        path = f"http://{host}:{port}{path}"
    elif scheme == "https":
        target = proxy or (host, port)
        conn = http.client.HTTPSConnection(*target, timeout=remaining, context=ssl.create_default_context())
        if proxy is not None:
            conn.set_tunnel(host, port)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=remaining)
    try:
        conn.connect()
        if proxy is None:  # the address really reached must be allowed too (DNS can change)
            policy.check_peer(conn.sock, parts)
        if "Authorization" in headers:  # the host reached must still be one the key may go to
            policy.check_key_peer(key_env, parts, None if proxy else conn.sock.getpeername()[0])
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        chunks, size = [], 0
        while True:  # read in chunks so a slow drip cannot outlive the deadline
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LLMError("timed out while reading the reply")
            if conn.sock is not None:
                conn.sock.settimeout(remaining)
            chunk = resp.read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > policy.MAX_REPLY_BYTES:
                raise LLMError(f"the reply is larger than {policy.MAX_REPLY_BYTES // 2**20} MiB; not an "
                               "answer to a caption request", retryable=False)
            chunks.append(chunk)
        return resp.status, b"".join(chunks)
    except (socket.timeout, TimeoutError):
        raise LLMError("timed out") from None
    except ConnectionRefusedError:
        # nothing listens there: retrying within seconds would only delay the fallback
        raise LLMError(f"connection refused by {host}:{port} (is the server running?)",
                       retryable=False) from None
    except (OSError, http.client.HTTPException) as exc:
        raise LLMError(f"connection error: {exc}") from None
    finally:
        conn.close()


def _parse(status: int, raw: bytes) -> str:
    try:
        data = json.loads(raw.decode("utf-8", errors="replace"))
    except json.JSONDecodeError:
        if status >= 400:
            raise LLMError(f"HTTP {status}: {raw[:200].decode('utf-8', 'replace')}", retryable=status >= 500)
        raise LLMError("the server sent malformed JSON") from None
    if status >= 400:
        err = data.get("error") if isinstance(data, dict) else None
        msg = err.get("message") if isinstance(err, dict) else err
        raise LLMError(f"HTTP {status}: {msg or raw[:200].decode('utf-8', 'replace')}",
                       retryable=status >= 500 or status == 429)
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LLMError("the reply has no choices[0].message.content") from None
    if content is None:  # e.g. a reasoning model that spent all tokens thinking
        content = ""
    if isinstance(content, list):  # some servers answer in content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise LLMError("the reply content is not text")
    return content


def chat_completion(
    base_url: str,
    model: str,
    messages: list[dict],
    *,
    api_key: str | None = None,
    api_key_env: str = "",
    timeout: float = 30.0,
    retries: int = 2,
    backoff: float = 0.5,
    temperature: float = 0.1,
    top_p: float = 0.7,
    seed: int | None = 0,
    max_tokens: int = 400,
) -> str:
    """POST ``messages`` to ``{base_url}/chat/completions``; return the assistant's text.

    Retries connection resets, timeouts, HTTP 5xx/429 and malformed replies up to ``retries``
    times with exponential back-off, all within ``timeout`` seconds in total. HTTP 4xx (bad key,
    unknown model) and a refused connection (no server) fail at once.

    ``api_key_env`` names the variable ``api_key`` came from: the key goes only where the owner's
    policy lets that variable's key go (:func:`.policy.check_key_host`), checked before connecting;
    a key without its name goes only to loopback.
    """
    parts, host, port, path = _endpoint(base_url)
    payload: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "temperature": float(temperature),
        "top_p": float(top_p),
        "max_tokens": int(max_tokens),
        "stream": False,
    }
    if seed is not None:
        payload["seed"] = int(seed)
    body = json.dumps(payload).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        policy.check_key_host(api_key_env, parts, via_proxy=_proxy_for(parts.scheme, host) is not None)
        headers["Authorization"] = f"Bearer {api_key}"
    deadline = time.monotonic() + float(timeout)
    delay = backoff
    last: LLMError | None = None
    for attempt in range(retries + 1):
        try:
            status, raw = _post(parts, host, port, path, body, headers, deadline, api_key_env)
            return _parse(status, raw)
        except LLMError as exc:
            last = exc
            log.info("LLM attempt %d/%d failed: %s", attempt + 1, retries + 1, exc)
            if not exc.retryable or attempt == retries:
                break
            if deadline - time.monotonic() <= delay:
                break
            time.sleep(delay)
            delay *= 2
    raise last or LLMError("no attempt was made")
