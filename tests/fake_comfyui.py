"""A small but real ComfyUI-like HTTP + websocket server on 127.0.0.1 for client tests.

It speaks the parts of ComfyUI's API the client uses: ``POST /upload/image`` (multipart),
``POST /prompt`` (validates node types, returns ``node_errors`` like ComfyUI), ``GET /history/<id>``,
``GET /view``, ``GET /object_info``, ``POST /interrupt`` and the ``/ws?clientId=`` websocket with
``status`` / ``executing`` / ``progress`` / ``executed`` / ``execution_error`` / ``execution_success``
events. "Executing" a graph writes one output file per save node whose content is the JSON of the
graph it received, so tests can check which overrides reached the server.
"""
from __future__ import annotations

import base64
import hashlib
import json
import struct
import threading
import time
import uuid
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SAVE_TYPES = {"MotionComicSaveVideo", "SaveVideo", "SaveImage", "SaveAnimatedWEBP"}
DEFAULT_TYPES = SAVE_TYPES | {"LoadImage", "MotionComicExpandPrompt", "MotionComicLoadVideo", "KSampler",
                              "MotionComicI2VSampler", "MotionComicLoadCogVideoX", "FailingNode", "PreviewImage"}


def _ws_frame(payload: bytes, opcode: int) -> bytes:
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


class FakeComfyUI:
    def __init__(self, root: Path, node_types=DEFAULT_TYPES, websocket: bool = True, fail_first: int = 0,
                 steps: int = 3, step_delay: float = 0.0):
        self.root = Path(root)
        (self.root / "input").mkdir(parents=True, exist_ok=True)
        (self.root / "output").mkdir(parents=True, exist_ok=True)
        self.node_types = set(node_types)
        self.websocket = websocket
        self.fail_first = fail_first
        self.steps, self.step_delay = steps, step_delay
        self.history: dict[str, dict] = {}
        self.prompts: list[dict] = []
        self.uploads: list[str] = []
        self.clients: dict[str, tuple] = {}
        self.lock = threading.Lock()
        self.interrupted = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    # ------------------------------------------------------------------ websocket push
    def send(self, client_id: str, event: dict) -> None:
        entry = self.clients.get(client_id)
        if not entry:
            return
        sock, lock = entry
        with lock:
            try:
                sock.sendall(_ws_frame(json.dumps(event).encode(), 1))
            except OSError:
                self.clients.pop(client_id, None)

    def send_binary(self, client_id: str, data: bytes) -> None:
        entry = self.clients.get(client_id)
        if entry:
            with entry[1]:
                entry[0].sendall(_ws_frame(data, 2))

    # ------------------------------------------------------------------ execution
    def execute(self, pid: str, prompt: dict, client_id: str) -> None:
        time.sleep(0.05)
        with self.lock:
            fail = self.fail_first > 0
            if fail:
                self.fail_first -= 1
        self.send(client_id, {"type": "execution_start", "data": {"prompt_id": pid}})
        outputs, messages = {}, [["execution_start", {"prompt_id": pid}]]
        for nid, node in prompt.items():
            ctype = node["class_type"]
            self.send(client_id, {"type": "executing", "data": {"node": nid, "prompt_id": pid}})
            if ctype == "FailingNode" or (fail and ctype in SAVE_TYPES):
                err = {"prompt_id": pid, "node_id": nid, "node_type": ctype, "exception_type":
                       "motioncomic.errors.MotionComicError", "exception_message": "model 'x' not found",
                       "traceback": ["..."]}
                self.send(client_id, {"type": "execution_error", "data": err})
                messages.append(["execution_error", err])
                self.history[pid] = {"prompt": [0, pid, prompt, {}, []], "outputs": {},
                                     "status": {"status_str": "error", "completed": False, "messages": messages}}
                return
            for i in range(1, self.steps + 1):
                if self.interrupted.is_set():
                    self.interrupted.clear()
                    self.send(client_id, {"type": "execution_interrupted", "data": {"prompt_id": pid, "node_id": nid}})
                    self.history[pid] = {"prompt": [], "outputs": {}, "status": {
                        "status_str": "error", "completed": False, "messages": messages}}
                    return
                time.sleep(self.step_delay)
                self.send(client_id, {"type": "progress", "data": {"value": i, "max": self.steps, "prompt_id": pid,
                                                                   "node": nid}})
                self.send_binary(client_id, b"\x00\x00\x00\x01\x00\x00\x00\x02preview")
            if ctype in SAVE_TYPES:
                name = f"{node['inputs'].get('filename_prefix', 'ComfyUI').split('/')[-1]}_{pid[:8]}_.mp4"
                sub = "clips"
                (self.root / "output" / sub).mkdir(exist_ok=True)
                (self.root / "output" / sub / name).write_text(json.dumps(prompt))
                item = {"filename": name, "subfolder": sub, "type": "output"}
                preview = {"filename": "preview.png", "subfolder": "", "type": "temp"}
                outputs[nid] = {"images": [item, preview], "animated": [True]}
                self.send(client_id, {"type": "executed", "data": {"node": nid, "prompt_id": pid,
                                                                   "output": outputs[nid]}})
        messages.append(["execution_success", {"prompt_id": pid}])
        self.history[pid] = {"prompt": [0, pid, prompt, {}, list(outputs)], "outputs": outputs,
                             "status": {"status_str": "success", "completed": True, "messages": messages}}
        self.send(client_id, {"type": "execution_success", "data": {"prompt_id": pid}})
        self.send(client_id, {"type": "executing", "data": {"node": None, "prompt_id": pid}})

    # ------------------------------------------------------------------ http
    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _json(self, obj, code=200):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                u = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(u.query).items()}
                if u.path == "/ws":
                    return self._websocket(q.get("clientId") or uuid.uuid4().hex)
                if u.path.startswith("/history/"):
                    pid = u.path.split("/", 2)[2]
                    return self._json({pid: server.history[pid]} if pid in server.history else {})
                if u.path == "/object_info":
                    return self._json({t: {"input": {"required": {}}, "output": []} for t in server.node_types})
                if u.path == "/view":
                    base = server.root / ("output" if q.get("type") == "output" else q.get("type", "temp"))
                    f = base / q.get("subfolder", "") / q["filename"]
                    if not f.is_file():
                        return self._json({"error": "not found"}, 404)
                    data = f.read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self._json({"error": "no route"}, 404)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if self.path == "/upload/image":
                    msg = BytesParser(policy=email_policy).parsebytes(
                        b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
                    fields, file = {}, None
                    for part in msg.iter_parts():
                        name = part.get_param("name", header="content-disposition")
                        if part.get_filename():
                            file = (part.get_filename(), part.get_payload(decode=True))
                        else:
                            fields[name] = part.get_content().strip()
                    if file is None:
                        return self._json({"error": "no image"}, 400)
                    d = server.root / "input" / fields.get("subfolder", "")
                    d.mkdir(parents=True, exist_ok=True)
                    (d / file[0]).write_bytes(file[1])
                    server.uploads.append(f"{fields.get('subfolder', '')}/{file[0]}".lstrip("/"))
                    return self._json({"name": file[0], "subfolder": fields.get("subfolder", ""), "type": "input"})
                if self.path == "/interrupt":
                    server.interrupted.set()
                    return self._json({})
                if self.path == "/prompt":
                    req = json.loads(body)
                    prompt = req["prompt"]
                    errors = {}
                    for nid, node in prompt.items():
                        if node.get("class_type") not in server.node_types:
                            errors[nid] = {"errors": [{"type": "invalid_node", "message": "Node type not found",
                                                       "details": node.get("class_type"), "extra_info": {}}],
                                           "dependent_outputs": [], "class_type": node.get("class_type")}
                        elif node.get("inputs", {}).get("seed") == -1:
                            errors[nid] = {"errors": [{"type": "value_smaller_than_min", "message":
                                                       "Value -1 smaller than min of 0", "details": "seed",
                                                       "extra_info": {"input_name": "seed"}}],
                                           "dependent_outputs": [], "class_type": node["class_type"]}
                    if errors:
                        return self._json({"error": {"type": "prompt_outputs_failed_validation", "message":
                                                     "Prompt outputs failed validation", "details": "",
                                                     "extra_info": {}}, "node_errors": errors}, 400)
                    pid = uuid.uuid4().hex
                    server.prompts.append(prompt)
                    threading.Thread(target=server.execute, args=(pid, prompt, req.get("client_id", "")),
                                     daemon=True).start()
                    return self._json({"prompt_id": pid, "number": len(server.prompts), "node_errors": {}})
                self._json({"error": "no route"}, 404)

            def _websocket(self, client_id):
                if not server.websocket or self.headers.get("Upgrade", "").lower() != "websocket":
                    return self._json({"error": "websocket disabled"}, 400)
                accept = base64.b64encode(hashlib.sha1(
                    (self.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
                self.send_response(101)
                self.send_header("Upgrade", "websocket")
                self.send_header("Connection", "Upgrade")
                self.send_header("Sec-WebSocket-Accept", accept.decode())
                self.end_headers()
                self.wfile.flush()
                sock = self.connection
                server.clients[client_id] = (sock, threading.Lock())
                server.send(client_id, {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}},
                                                                   "sid": client_id}})
                sock.settimeout(0.5)
                while True:  # keep the connection until the client closes it or the server stops
                    try:
                        data = sock.recv(1024)
                        if not data or data[0] & 0x0F == 8:
                            break
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                server.clients.pop(client_id, None)
                self.close_connection = True

        return Handler
