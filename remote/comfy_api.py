"""HTTP + websocket client for a running ComfyUI server (stdlib only).

Endpoints used: ``POST /upload/image`` (multipart), ``POST /prompt``, ``GET /history/<id>``,
``GET /view``, ``GET /object_info``, ``POST /interrupt`` and the ``/ws?clientId=`` websocket for
progress. If the websocket cannot be opened we fall back to polling ``/history``.
"""
from __future__ import annotations

import json
import logging
import mimetypes
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import Cancelled, MotionComicError
from .ws import WebSocket, WebSocketError

log = logging.getLogger(__name__)

ProgressFn = Callable[[dict], None]


class ServerUnavailable(MotionComicError):
    """The server cannot be reached (connection refused, DNS, timeout)."""


class WorkflowRejected(MotionComicError):
    """``/prompt`` refused the graph (missing node types, invalid inputs ...)."""


class ExecutionFailed(MotionComicError):
    """The graph was accepted but a node raised while running."""


@dataclass
class RunResult:
    prompt_id: str
    status: str  # "ok" | "error" | "interrupted"
    seconds: float
    files: list[Path] = field(default_factory=list)
    outputs: dict = field(default_factory=dict)
    error: str = ""


def format_prompt_error(body: Any) -> str:
    """ComfyUI's ``/prompt`` error body → readable lines (one per failing node input)."""
    if not isinstance(body, dict):
        return str(body)
    lines = []
    err = body.get("error")
    if isinstance(err, dict):
        msg = err.get("message", "")
        det = err.get("details", "")
        lines.append(f"{msg}: {det}" if det and det not in msg else msg)
    elif err:
        lines.append(str(err))
    for nid, ne in (body.get("node_errors") or {}).items():
        ct = ne.get("class_type", "?")
        for e in ne.get("errors", []):
            inp = (e.get("extra_info") or {}).get("input_name")
            det = e.get("details")
            lines.append(f"  node {nid} ({ct}){' input ' + repr(inp) if inp else ''}: {e.get('message', '')}"
                         f"{': ' + det if det else ''}")
    return "\n".join(x for x in lines if x) or json.dumps(body)[:500]


def format_execution_error(data: dict) -> str:
    """An ``execution_error`` event → ``node 7 (MotionComicSampler): message``."""
    msg = data.get("exception_message", "").strip()
    typ = data.get("exception_type", "")
    short = typ.rsplit(".", 1)[-1]
    return f"node {data.get('node_id')} ({data.get('node_type')}) failed: {msg}" + (f" [{short}]" if short else "")


class ComfyClient:
    """One ComfyUI server. ``ComfyClient("http://127.0.0.1:8188").run(prompt, out_dir)``."""

    def __init__(self, server: str, timeout: float = 60.0, client_id: str | None = None):
        if "://" not in server:
            server = "http://" + server
        self.base = server.rstrip("/")
        self.timeout = timeout
        self.client_id = client_id or uuid.uuid4().hex

    # ------------------------------------------------------------------ http
    def _request(self, method: str, path: str, data: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerUnavailable(f"cannot reach ComfyUI at {self.base}: {reason}. Is the server running "
                                    "(scripts/run-comfyui.sh) and is --server right?") from exc

    def _json(self, method: str, path: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        with self._request(method, path, data, headers) as r:
            return json.loads(r.read() or b"null")

    def object_info(self) -> dict:
        return self._json("GET", "/object_info")

    def history(self, prompt_id: str) -> dict | None:
        return (self._json("GET", f"/history/{urllib.parse.quote(prompt_id)}") or {}).get(prompt_id)

    def interrupt(self) -> None:
        try:
            self._json("POST", "/interrupt", {})
        except MotionComicError:
            pass

    def upload_image(self, path: str | os.PathLike, subfolder: str = "", overwrite: bool = False) -> str:
        """Upload a file to the server's input folder; returns the name to put in LoadImage.

        Without ``overwrite`` ComfyUI keeps an existing different file of that name and stores
        ours as ``name (1).png`` (the returned name), so a user's input files are never replaced.
        """
        p = Path(path)
        if not p.is_file():
            raise MotionComicError(f"file to upload not found: {p}")
        boundary = uuid.uuid4().hex
        ctype = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
        fields = {"overwrite": "true" if overwrite else "false", "type": "input", "subfolder": subfolder}
        body = b""
        for k, v in fields.items():
            body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").encode()
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{p.name}\"\r\n"
                 f"Content-Type: {ctype}\r\n\r\n").encode() + p.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        try:
            with self._request("POST", "/upload/image", body,
                               {"Content-Type": f"multipart/form-data; boundary={boundary}"}) as r:
                info = json.loads(r.read())
        except urllib.error.HTTPError as exc:
            raise MotionComicError(f"upload of {p.name} refused by {self.base}: HTTP {exc.code} "
                                   f"{exc.read()[:300].decode('utf-8', 'replace')}") from exc
        name = info.get("name", p.name)
        return f"{info['subfolder']}/{name}" if info.get("subfolder") else name

    def queue(self, prompt: dict) -> str:
        """POST the API graph; returns the prompt id. Refusals raise :class:`WorkflowRejected`."""
        try:
            body = self._json("POST", "/prompt", {"prompt": prompt, "client_id": self.client_id})
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                detail = format_prompt_error(json.loads(raw))
            except ValueError:
                detail = raw[:500].decode("utf-8", "replace")
            raise WorkflowRejected(f"ComfyUI at {self.base} rejected the workflow:\n{detail}") from exc
        if body.get("node_errors"):
            raise WorkflowRejected(f"ComfyUI rejected the workflow:\n{format_prompt_error(body)}")
        return body["prompt_id"]

    def download(self, item: dict, dest: str | os.PathLike) -> Path:
        """Fetch one output (``{"filename", "subfolder", "type"}``) into ``dest`` (keeps sub-folders)."""
        dest = Path(dest)
        rel = Path(item.get("subfolder") or "") / item["filename"]
        target = (dest / rel).resolve()
        if not target.is_relative_to(dest.resolve()):
            raise MotionComicError(f"server returned an unsafe output name: {rel}")
        target.parent.mkdir(parents=True, exist_ok=True)
        q = urllib.parse.urlencode({"filename": item["filename"], "subfolder": item.get("subfolder", ""),
                                    "type": item.get("type", "output")})
        tmp = target.with_name(f".{target.name}.part")
        try:
            with self._request("GET", f"/view?{q}") as r, open(tmp, "wb") as f:
                while chunk := r.read(1 << 20):
                    f.write(chunk)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    # ------------------------------------------------------------------ running
    def _ws(self) -> WebSocket | None:
        u = urllib.parse.urlsplit(self.base)
        scheme = "wss" if u.scheme == "https" else "ws"
        try:
            ws = WebSocket.connect(f"{scheme}://{u.netloc}/ws?clientId={self.client_id}", timeout=self.timeout)
            ws.settimeout(1.0)
            return ws
        except (OSError, WebSocketError) as exc:
            log.warning("no websocket at %s (%s): polling /history instead", self.base, exc)
            return None

    def wait(self, prompt_id: str, ws: WebSocket | None, on_event: ProgressFn | None = None,
             timeout: float | None = None, poll: float = 2.0) -> dict:
        """Block until ``prompt_id`` finishes; returns its history entry. Raises on failure."""
        t0 = time.monotonic()
        last_poll = 0.0
        error = None
        errors_seen = 0
        while True:
            if timeout and time.monotonic() - t0 > timeout:
                self.interrupt()
                raise ExecutionFailed(f"prompt {prompt_id} did not finish within {timeout:.0f} s (interrupted)")
            msg = None
            if ws is not None:
                try:
                    msg = ws.recv()
                except TimeoutError:
                    msg = None
                except (OSError, WebSocketError) as exc:
                    log.warning("websocket lost (%s): polling /history", exc)
                    ws = None
            else:
                time.sleep(min(poll, 0.5))
            finished = False
            if isinstance(msg, str):
                parsed = _parse_event(msg, prompt_id)
                if parsed is None:
                    continue
                ev, finished = parsed
                if on_event:
                    on_event(ev)
                if ev.get("type") == "execution_error":
                    error = format_execution_error(ev.get("data") or {})
                elif ev.get("type") == "execution_interrupted":
                    raise Cancelled(f"prompt {prompt_id} was interrupted on the server")
                if not (finished or error):
                    continue
            elif ws is not None and time.monotonic() - last_poll < poll:
                continue
            last_poll = time.monotonic()
            entry = self.history(prompt_id)
            if entry:
                status = entry.get("status") or {}
                if status.get("status_str") == "error":
                    raise ExecutionFailed(error or _history_error(entry))
                if status.get("completed") or (not status and entry.get("outputs") is not None):
                    if ws is not None and not finished:
                        self._drain(ws, prompt_id, on_event)
                    return entry
            if error:
                errors_seen += 1
                if errors_seen > 3:  # the event said it failed; history never caught up
                    raise ExecutionFailed(error)

    @staticmethod
    def _drain(ws: WebSocket, prompt_id: str, on_event: ProgressFn | None, seconds: float = 2.0) -> None:
        """History says done but the websocket still holds events (a poll overtook them): deliver
        them, in order, until the end-of-prompt event or ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                msg = ws.recv()
            except (TimeoutError, OSError, WebSocketError):
                return
            parsed = _parse_event(msg, prompt_id) if isinstance(msg, str) else None
            if parsed is None:
                continue
            if on_event:
                on_event(parsed[0])
            if parsed[1]:
                return

    def run(self, prompt: dict, out_dir: str | os.PathLike | None = None, on_event: ProgressFn | None = None,
            timeout: float | None = None, include_temp: bool = False) -> RunResult:
        """Queue ``prompt``, follow it to the end, download its output files into ``out_dir``."""
        t0 = time.monotonic()
        ws = self._ws()
        try:
            pid = self.queue(prompt)
            log.info("queued prompt %s on %s", pid, self.base)
            entry = self.wait(pid, ws, on_event, timeout)
        finally:
            if ws is not None:
                ws.close()
        files = []
        if out_dir is not None:
            for item in output_items(entry, include_temp):
                files.append(self.download(item, out_dir))
        return RunResult(pid, "ok", time.monotonic() - t0, files, entry.get("outputs", {}))


def _parse_event(msg: str, prompt_id: str) -> tuple[dict, bool] | None:
    """``(event, finished)`` for a websocket text message about ``prompt_id`` (None: another
    prompt's). ``finished``: the server says the prompt is done."""
    try:
        ev = json.loads(msg)
    except ValueError:
        log.warning("ignoring a websocket message that is not JSON: %r", msg[:80])
        return None
    if not isinstance(ev, dict) or not isinstance(ev.get("data") or {}, dict):
        log.warning("ignoring a websocket message of unknown shape: %r", msg[:80])
        return None
    data = ev.get("data") or {}
    if data.get("prompt_id") not in (None, prompt_id):
        return None
    kind = ev.get("type")
    finished = kind == "execution_success" or (kind == "executing" and data.get("node") is None
                                               and data.get("prompt_id") == prompt_id)
    return ev, finished


def _history_error(entry: dict | None) -> str:
    for kind, data in ((entry or {}).get("status") or {}).get("messages", []):
        if kind == "execution_error":
            return format_execution_error(data)
    return "the workflow failed on the server (no error message in /history)"


def output_items(entry: dict, include_temp: bool = False) -> list[dict]:
    """Files listed in a history entry's outputs (``images``, ``gifs``, ``videos``, ``audio`` ...)."""
    items = []
    for node_out in (entry.get("outputs") or {}).values():
        for values in node_out.values():
            if not isinstance(values, list):
                continue
            for v in values:
                if isinstance(v, dict) and "filename" in v and (include_temp or v.get("type", "output") == "output"):
                    items.append(v)
    return items
