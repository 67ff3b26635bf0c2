"""A minimal RFC 6455 websocket client on the stdlib socket (enough for ComfyUI's ``/ws``).

ComfyUI sends JSON text messages (status, progress, executing, executed, execution_error, ...)
and binary preview images. We need: the opening handshake, masked client frames, reading text /
binary / ping / close frames (with continuation), and answering pings. No extensions, no TLS
beyond what ``ssl`` gives for ``wss://``.
"""
from __future__ import annotations

import base64
import hashlib
import os
import socket
import ssl
import struct
from urllib.parse import urlsplit

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _xor(data: bytes, mask: bytes) -> bytes:
    """Apply the 4-byte websocket mask (fast path through int arithmetic)."""
    if not data:
        return b""
    reps = (len(data) + 3) // 4
    key = int.from_bytes((mask * reps)[:len(data)], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(len(data), "big")


class WebSocketError(OSError):
    """Handshake refused or the connection broke."""


class WebSocket:
    """``ws = WebSocket.connect("ws://host:port/ws?clientId=x", timeout=5); ws.recv()``."""

    def __init__(self, sock: socket.socket, leftover: bytes = b""):
        self.sock = sock
        self._buf = bytearray(leftover)

    @classmethod
    def connect(cls, url: str, timeout: float | None = 10.0) -> "WebSocket":
        u = urlsplit(url)
        if u.scheme not in ("ws", "wss"):
            raise WebSocketError(f"not a websocket URL: {url}")
        port = u.port or (443 if u.scheme == "wss" else 80)
        sock = socket.create_connection((u.hostname, port), timeout=timeout)
        if u.scheme == "wss":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=u.hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        host = u.hostname if u.port is None else f"{u.hostname}:{u.port}"
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        sock.sendall(req.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                sock.close()
                raise WebSocketError(f"{url}: connection closed during the handshake")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            sock.close()
            raise WebSocketError(f"{url}: handshake refused: {lines[0]}")
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        expect = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != expect:
            sock.close()
            raise WebSocketError(f"{url}: bad Sec-WebSocket-Accept")
        return cls(sock, rest)

    # ------------------------------------------------------------------ frames
    def _need(self, n: int) -> None:
        # a timeout here leaves the buffer intact, so a later recv() resumes the same frame
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise WebSocketError("websocket closed by the server")
            self._buf += chunk

    #: Largest frame / message accepted (ComfyUI's biggest are preview images of a few MB).
    MAX_MESSAGE_BYTES = 64 * 2**20

    def _frame(self) -> tuple[bool, int, bytes]:
        self._need(2)
        b0, b1 = self._buf[0], self._buf[1]
        fin, opcode, masked, n = bool(b0 & 0x80), b0 & 0x0F, bool(b1 & 0x80), b1 & 0x7F
        off = 2
        if n == 126:
            self._need(4)
            (n,) = struct.unpack("!H", self._buf[2:4])
            off = 4
        elif n == 127:
            self._need(10)
            (n,) = struct.unpack("!Q", self._buf[2:10])
            off = 10
        if n > self.MAX_MESSAGE_BYTES:  # refuse before reading (or allocating) the payload
            raise WebSocketError(f"websocket frame of {n} bytes exceeds the {self.MAX_MESSAGE_BYTES // 2**20} MiB cap")
        mask = None
        if masked:
            self._need(off + 4)
            mask = bytes(self._buf[off:off + 4])
            off += 4
        self._need(off + n)
        payload = bytes(self._buf[off:off + n])
        del self._buf[:off + n]
        if mask:
            payload = _xor(payload, mask)
        return fin, opcode, payload

    def send(self, payload: bytes | str, opcode: int | None = None) -> None:
        if isinstance(payload, str):
            payload, opcode = payload.encode(), opcode or 1
        opcode = opcode or 2
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + _xor(payload, mask))

    def recv(self) -> str | bytes:
        """Next whole message: ``str`` for text, ``bytes`` for binary. Raises on close/timeout."""
        parts: list[bytes] = []
        kind = None
        while True:
            fin, op, payload = self._frame()
            if op == 9:  # ping
                self.send(payload, 10)
                continue
            if op == 10:  # pong
                continue
            if op == 8:
                try:
                    self.send(payload[:2], 8)
                except OSError:
                    pass
                raise WebSocketError("websocket closed by the server")
            if op in (1, 2):
                kind, parts = op, [payload]
            elif op == 0:
                parts.append(payload)
                if sum(map(len, parts)) > self.MAX_MESSAGE_BYTES:
                    raise WebSocketError(f"websocket message exceeds the {self.MAX_MESSAGE_BYTES // 2**20} MiB cap")
            if fin and kind is not None:
                data = b"".join(parts)
                return data.decode("utf-8") if kind == 1 else data

    def settimeout(self, seconds: float | None) -> None:
        self.sock.settimeout(seconds)

    def close(self) -> None:
        try:
            self.send(struct.pack("!H", 1000), 8)
        except OSError:
            pass
        self.sock.close()
