"""Test helpers for prompt expansion: a real chat-completions server on 127.0.0.1, a tiny T5
tokenizer built offline, and a tiny random chat LM in ``models/LLM/tiny/``.

The server picks its behaviour from the requested model name, so one server serves every case:

=============  ==============================================================
``normal``     a clean English caption (echoes nothing of the key)
``long``       a caption far over any token budget (many sentences)
``think``      reasoning tags + "Here is…" preamble + quotes around the caption
``slow``       answers after ``server.slow_seconds`` (longer than the test's timeout)
``err500``     HTTP 500 every time
``flaky``      HTTP 500 on the first call, then ``normal``
``badjson``    HTTP 200 with a body that is not JSON
``chinese``    a caption in Chinese (not usable: English is required)
``auth``       401 unless ``Authorization: Bearer <server.expected_key>``
``huge``       a 100 MB reply body, streamed (never held by the server)
=============  ==============================================================
"""
from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CAPTION = (
    "A girl with long silver hair and a blue school uniform stands in a sunny classroom. She "
    "slowly lifts her right hand and waves it from side to side at the viewer, smiling warmly "
    "as her eyes curve with joy and she blinks softly. Loose strands of her hair and the ribbon "
    "on her collar sway with the motion while her skirt ripples slightly. The camera stays "
    "static at eye level. Warm afternoon light falls through the windows, anime style with "
    "clean line art and soft cel shading."
)
LONG = " ".join(
    f"Sentence number {i} describes the gentle motion of her hair and the light in the room." for i in range(60)
)
THINK = (
    "<think>The user wants a waving motion. I should describe hair and clothes.</think>\n\n"
    "Sure! Here is the expanded prompt:\n\n\"" + CAPTION + "\"\n\nLet me know if you want changes."
)
CHINESE = "一个银色长发的女孩站在阳光明媚的教室里，她慢慢举起右手向观众挥手，温柔地微笑，头发和裙子随风轻轻飘动，镜头保持不动。"


class ChatHandler(BaseHTTPRequestHandler):
    server: "ChatServer"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass

    def _send_huge(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b" " * 2**20
        try:
            for _ in range(size // len(chunk)):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading: expected
            self.server.huge_aborted = True

    def do_POST(self) -> None:  # noqa: N802
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        req = json.loads(raw)
        model = req.get("model", "")
        srv = self.server
        with srv.lock:
            srv.calls[model] += 1
            n = srv.calls[model]
            srv.requests.append({"path": self.path, "headers": dict(self.headers), "body": req})
        if not self.path.endswith("/v1/chat/completions"):  # absolute URL when used as a proxy
            return self._send(404, b'{"error": {"message": "not found"}}')
        if model == "slow":
            time.sleep(srv.slow_seconds)
        if model == "err500" or (model == "flaky" and n == 1):
            return self._send(500, b'{"error": {"message": "internal error"}}')
        if model == "badjson":
            return self._send(200, b'{"choices": [ {"message": oops')
        if model == "huge":
            return self._send_huge(100 * 2**20)
        if model == "auth" and self.headers.get("Authorization") != f"Bearer {srv.expected_key}":
            return self._send(401, b'{"error": {"message": "invalid api key"}}')
        content = {"long": LONG, "think": THINK, "chinese": CHINESE}.get(model, CAPTION)
        body = {"id": "x", "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": "stop"}]}
        return self._send(200, json.dumps(body).encode())


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ChatHandler)
        self.calls: Counter = Counter()
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.slow_seconds = 3.0
        self.expected_key = ""
        self.huge_aborted = False
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request, client_address) -> None:  # clients hanging up are expected
        pass

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def __enter__(self) -> "ChatServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


def silent_socket() -> socket.socket:
    """A listening socket that never accepts or answers (a hung server)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    return s


def free_port() -> int:
    """A port with nothing listening (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


WORDS = (
    "a girl boy with long short silver black hair blue red school uniform stands sits in the sunny "
    "classroom she he slowly lifts her his right left hand and waves it from side to side at viewer "
    "smiling warmly as eyes curve joy blinks softly loose strands of ribbon on collar sway motion "
    "while skirt ripples slightly camera stays static eye level warm afternoon light falls through "
    "windows anime style clean line art soft cel shading sentence number describes gentle room"
).split()


def build_t5_tokenizer(path: Path | None = None):
    """A tiny T5 (Unigram, sentencepiece-style) tokenizer built offline; saved to ``path`` if given.

    Known words are one piece each; anything else falls back to single characters, like the real
    T5 vocabulary on rare words. Appends ``</s>`` like T5.
    """
    import string

    from transformers import T5Tokenizer

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [("\u2581" + w, -2.0) for w in dict.fromkeys(WORDS)]
    vocab += [(c, -6.0) for c in string.ascii_letters + string.digits + ".,:;!?-'\"()"]
    vocab += [("\u2581", -4.0)]
    tok = T5Tokenizer(vocab=vocab, extra_ids=0)
    if path is not None:
        tok.save_pretrained(str(path))
    return tok


CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


#: A template that refuses the system role, like Gemma's.
NO_SYSTEM_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tiny_chat_lm(models_dir: Path, name: str = "tiny", chat_template: str = CHAT_TEMPLATE) -> Path:
    """A tiny random Llama chat model + tokenizer with a chat template in ``models/LLM/<name>/``."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(models_dir) / "LLM" / name
    out.mkdir(parents=True, exist_ok=True)
    specials = ["<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
    vocab = {t: i for i, t in enumerate(specials + sorted(set(WORDS)) + list(".,"))}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    tok = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", bos_token="<s>",
                                  eos_token="</s>", pad_token="<unk>")
    tok.add_special_tokens({"additional_special_tokens": specials[3:]})
    tok.chat_template = chat_template
    tok.save_pretrained(str(out))
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=2048,
                      bos_token_id=1, eos_token_id=2, pad_token_id=0)
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():  # never emit EOS first, so the reply is non-empty gibberish
        model.lm_head.weight[2].zero_()
    model.save_pretrained(str(out), safe_serialization=True)
    return out


def install_for_workflows(models_dir: Path) -> None:
    """Nothing to install: workflows use the expand node with no server running, which falls back
    to the rule-based expansion offline (and says so in its status output)."""
    Path(models_dir).mkdir(parents=True, exist_ok=True)
