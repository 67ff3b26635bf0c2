"""Bounded reads on the client side: websocket frames, messages that are not JSON, CSV quoting."""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import socket
import struct
import threading

import pytest

from motioncomic.remote.batch import read_jobs
from motioncomic.remote.comfy_api import _parse_event
from motioncomic.remote.ws import WebSocket, WebSocketError

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _one_shot_ws_server(frames: list[bytes]):
    """A real websocket server on 127.0.0.1 that answers the handshake and sends raw ``frames``."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def run():
        conn, _ = srv.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(4096)
        key = next(ln.split(":", 1)[1].strip() for ln in data.decode().split("\r\n")
                   if ln.lower().startswith("sec-websocket-key"))
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
        conn.sendall(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode())
        for f in frames:
            conn.sendall(f)
        threading.Event().wait(2)
        conn.close()
        srv.close()

    threading.Thread(target=run, daemon=True).start()
    return f"ws://127.0.0.1:{srv.getsockname()[1]}/ws"


def test_a_3gb_frame_header_is_refused_without_reading_it():
    header = bytes([0x82, 127]) + struct.pack("!Q", 3 * 2**30)  # binary frame claiming 3 GiB
    ws = WebSocket.connect(_one_shot_ws_server([header + b"\0" * 16]), timeout=5)
    with pytest.raises(WebSocketError, match=r"3221225472 bytes exceeds the 64 MiB cap"):
        ws.recv()
    ws.close()


def test_fragmented_message_over_the_cap_is_refused(monkeypatch):
    monkeypatch.setattr(WebSocket, "MAX_MESSAGE_BYTES", 1000)
    part = lambda fin, op, n: bytes([(0x80 if fin else 0) | op, 126]) + struct.pack("!H", n) + b"a" * n  # noqa: E731
    ws = WebSocket.connect(_one_shot_ws_server([part(False, 1, 600), part(True, 0, 600)]), timeout=5)
    with pytest.raises(WebSocketError, match="message exceeds"):
        ws.recv()
    ws.close()


def test_websocket_text_that_is_not_json_is_reported_and_skipped(caplog):
    caplog.set_level(logging.WARNING)
    assert _parse_event("<html>proxy error</html>", "p1") is None
    assert _parse_event("[1, 2]", "p1") is None
    assert "not JSON" in caplog.text and "unknown shape" in caplog.text
    event, done = _parse_event(json.dumps({"type": "executing", "data": {"prompt_id": "p1", "node": None}}), "p1")
    assert event["type"] == "executing" and done


def test_jobs_csv_with_quoted_newlines_keeps_rows_and_line_numbers(tmp_path):
    wf = tmp_path / "wf.json"
    wf.write_text("{}")
    img = tmp_path / "a.png"
    img.write_bytes(b"png")
    csv_text = ('id,image,prompt,seed,workflow\n'
                f'one,a.png,"she waves\nand smiles\nslowly",1,wf.json\n'
                f'two,a.png,plain,x,wf.json\n'
                f'three,missing.png,"multi\nline",3,wf.json\n')
    (tmp_path / "jobs.csv").write_text(csv_text)
    with pytest.raises(Exception) as e:
        read_jobs(tmp_path / "jobs.csv")
    msg = str(e.value)
    assert "line 5: seed 'x'" in msg and "line 6: image not found: missing.png" in msg
    (tmp_path / "jobs.csv").write_text(csv_text.replace(",x,", ",2,").replace("missing.png", "a.png"))
    jobs = read_jobs(tmp_path / "jobs.csv")
    assert [j.id for j in jobs] == ["one", "two", "three"]
    assert jobs[0].prompt == "she waves\nand smiles\nslowly"
