"""The OpenAI-compatible path against a real chat-completions server on 127.0.0.1."""
from __future__ import annotations

import base64
import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

import tiny_prompts as tp
from motioncomic.prompts.cache import PromptCache
from motioncomic.prompts.expand import LLMSettings, expand_prompt

ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk-test-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"


@pytest.fixture(scope="module")
def server():
    with tp.ChatServer() as srv:
        yield srv


def run(server, model, text="她挥手", cache=None, **kw):
    extra = {k: kw.pop(k) for k in list(kw) if k in LLMSettings.__dataclass_fields__}
    settings = LLMSettings(base_url=server.base_url, model=model, backoff=0.05, **extra)
    return expand_prompt(text, settings=settings, cache=cache if cache is not None else PromptCache(), **kw)


def test_normal_answer(server):
    r = run(server, "normal", action="wave", family="cogvideox")
    assert r.source == "llm" and r.prompt == tp.CAPTION
    assert r.status.startswith("llm: expanded by normal") and "/226" in r.status
    req = server.requests[-1]
    assert req["path"] == "/v1/chat/completions"
    body = req["body"]
    assert body["seed"] == 0 and body["temperature"] == pytest.approx(0.1) and body["stream"] is False
    assert "FIRST FRAME" in body["messages"][0]["content"]
    assert body["messages"][1]["content"].startswith("Request: 她挥手\nAction:")
    assert "Authorization" not in req["headers"]


def test_reasoning_tags_cleaned(server):
    r = run(server, "think")
    assert r.source == "llm" and r.prompt == tp.CAPTION


@pytest.mark.parametrize("model, calls, reason", [
    ("err500", 3, "HTTP 500"), ("badjson", 3, "malformed JSON"), ("chinese", 1, "not in English"),
])
def test_failures_fall_back_with_the_reason(server, model, calls, reason):
    before = server.calls[model]
    r = run(server, model, retries=2)
    assert r.source == "fallback" and r.status.startswith("fallback: rule-based")
    assert reason in r.status
    assert "She waves." in r.prompt and r.report.tokens_after <= 226
    assert server.calls[model] - before == calls  # retried only what is worth retrying


def test_retry_recovers_from_one_error(server):
    r = run(server, "flaky", retries=2)
    assert r.source == "llm" and server.calls["flaky"] == 2


def test_slow_server_costs_no_more_than_timeout(server):
    server.slow_seconds = 3.0
    t0 = time.monotonic()
    r = run(server, "slow", timeout=0.6, retries=3)
    took = time.monotonic() - t0
    assert r.source == "fallback" and "timed out" in r.status
    assert 0.55 <= took < 0.6 + 0.4


def test_dead_servers_cost_no_more_than_timeout():
    t0 = time.monotonic()
    r = expand_prompt("she waves", settings=LLMSettings(base_url=f"http://127.0.0.1:{tp.free_port()}/v1",
                                                         timeout=0.5, backoff=0.05), cache=PromptCache())
    assert r.source == "fallback" and "connection refused" in r.status
    assert time.monotonic() - t0 < 0.3  # nothing listens: no retries, immediate fallback
    sock = tp.silent_socket()
    try:
        t0 = time.monotonic()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        r = expand_prompt("she waves", settings=LLMSettings(base_url=url, timeout=0.5), cache=PromptCache())
        assert r.source == "fallback" and "timed out" in r.status
        assert time.monotonic() - t0 < 0.5 + 0.4
    finally:
        sock.close()


def test_cache_hits_skip_the_server(server, tmp_path):
    cache = PromptCache(disk_dir=tmp_path / "cache")
    first = run(server, "cached", "she waves", cache=cache)
    second = run(server, "cached", "she waves", cache=cache, timeout=5.0)  # timeout is not in the key
    assert server.calls["cached"] == 1
    assert second.source == "cache" and second.prompt == first.prompt and "cache:" in second.status
    run(server, "cached", "she waves", cache=cache, seed=1)  # other settings: a new call
    run(server, "cached", "she waves", cache=cache, family="opensora")
    assert server.calls["cached"] == 3
    fresh = PromptCache(disk_dir=tmp_path / "cache")  # a restarted process reads the disk cache
    assert run(server, "cached", "she waves", cache=fresh).source == "cache"
    assert server.calls["cached"] == 3
    stored = "".join(p.read_text() for p in (tmp_path / "cache").glob("*.json"))
    assert tp.CAPTION in stored and "Bearer" not in stored
    # fallbacks are not cached: once the server is back, the LLM is asked again
    cache2 = PromptCache()
    assert run(server, "err500", cache=cache2, retries=0).source == "fallback"
    assert run(server, "err500", cache=cache2, retries=0).source == "fallback"
    assert len(cache2) == 0


def test_image_sent_as_png_data_url_and_keys_the_cache(server):
    img = np.zeros((40, 60, 3), np.float32)
    img[:, :30] = 1.0
    cache = PromptCache()
    r = run(server, "vision", image=img, send_image=True, cache=cache)
    assert r.source == "llm"
    content = server.requests[-1]["body"]["messages"][1]["content"]
    assert content[0]["type"] == "text" and content[1]["type"] == "image_url"
    url = content[1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    from PIL import Image

    png = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert png.size == (60, 40) and png.getpixel((0, 0)) == (255, 255, 255)
    assert "FIRST FRAME" in server.requests[-1]["body"]["messages"][0]["content"]
    run(server, "vision", image=img, send_image=True, cache=cache)
    assert server.calls["vision"] == 1
    run(server, "vision", image=1.0 - img, send_image=True, cache=cache)  # another image: new call
    assert server.calls["vision"] == 2


def test_api_key_read_from_named_env_var(server, monkeypatch):
    server.expected_key = SECRET
    monkeypatch.setenv("MC_TEST_LLM_API_KEY", SECRET)
    r = run(server, "auth", api_key_env="MC_TEST_LLM_API_KEY")
    assert r.source == "llm"
    assert server.requests[-1]["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert SECRET not in r.status and SECRET not in r.prompt
    monkeypatch.delenv("MC_TEST_LLM_API_KEY")
    before = server.calls["auth"]
    r = run(server, "auth", api_key_env="MC_TEST_LLM_API_KEY")
    assert r.source == "fallback" and "MC_TEST_LLM_API_KEY is not set" in r.status
    assert server.calls["auth"] == before  # no request without the key
    monkeypatch.setenv("MC_TEST_LLM_API_KEY", "wrong")
    r = run(server, "auth", api_key_env="MC_TEST_LLM_API_KEY", retries=3)
    assert r.source == "fallback" and "401" in r.status and server.calls["auth"] == before + 1


def test_remote_hosts_go_through_the_configured_proxy(server, monkeypatch):
    """HTTP_PROXY is honoured for remote servers (our test server plays the proxy)."""
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("no_proxy", "")
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.setenv("MOTIONCOMIC_LLM_HOSTS", "llm.example.invalid")  # plain http to a remote host: owner's call
    r = expand_prompt("she waves", settings=LLMSettings(base_url="http://llm.example.invalid/v1",
                                                         model="proxied", timeout=5), cache=PromptCache())
    assert r.source == "llm"
    assert server.requests[-1]["path"] == "http://llm.example.invalid:80/v1/chat/completions"


def test_node_end_to_end(server, monkeypatch):
    import torch

    from motioncomic.nodes import NODE_CLASS_MAPPINGS as _NODES

    MotionComicExpandPrompt = _NODES["MotionComicExpandPrompt"]

    monkeypatch.setattr("motioncomic.prompts.cache._default", PromptCache())
    node = MotionComicExpandPrompt()
    image = torch.rand(2, 32, 48, 3)
    args = dict(text="她挥手", family="opensora", action="wave", camera="static", style="anime",
                backend="openai", base_url=server.base_url, model="node", api_key_env="",
                timeout=5.0, llm_seed=7, temperature=0.1)
    prompt, status = node.expand(**args, image=image, send_image=True)
    assert prompt == tp.CAPTION and status.startswith("llm:") and "opensora" in status
    assert server.requests[-1]["body"]["seed"] == 7
    assert node.expand(**args, image=image, send_image=True)[1].startswith("cache:")
    assert image.shape == (2, 32, 48, 3)
    # a successful answer is deterministic: ComfyUI may keep it cached
    assert MotionComicExpandPrompt.IS_CHANGED(**args, send_image=True) == ""
    offline = dict(args, base_url=f"http://127.0.0.1:{tp.free_port()}/v1", timeout=1.0)
    prompt, status = node.expand(**offline)
    assert status.startswith("fallback:") and "She waves" in prompt
    # after a fallback the node re-runs on the next queue (NaN != NaN), so a revived server is used
    changed = MotionComicExpandPrompt.IS_CHANGED(**offline)
    assert changed != changed


def test_node_stores_only_the_env_var_name_and_workflows_hold_no_keys():
    from motioncomic.nodes import NODE_CLASS_MAPPINGS as _NODES

    MotionComicExpandPrompt = _NODES["MotionComicExpandPrompt"]

    spec = MotionComicExpandPrompt.INPUT_TYPES()
    names = set(spec["required"]) | set(spec["optional"])
    assert "api_key_env" in names and not {"api_key", "key", "token"} & names
    key_like = [r"sk-[A-Za-z0-9_-]{16,}", r"gsk_[A-Za-z0-9]{16,}", r"hf_[A-Za-z0-9]{16,}", r"Bearer\s+\S+"]
    files = sorted((ROOT / "workflows").glob("*.json")) + sorted((ROOT / "workflows" / "api").glob("*.json"))
    from motioncomic.prompts.expand import check_api_key_env

    for f in files:
        text = f.read_text(encoding="utf-8")
        for pat in key_like:
            assert not re.search(pat, text), f"{f.name} contains something that looks like an API key"
        data = json.loads(text)
        for node in _expand_nodes(data):
            check_api_key_env(node)  # raises if a key was typed where the name belongs


def _expand_nodes(data) -> list[str]:
    """api_key_env values of expand nodes in a UI-format or API-format workflow."""
    found = []
    if isinstance(data, dict) and "nodes" in data:  # UI format: widgets_values in input order
        from motioncomic.nodes import NODE_CLASS_MAPPINGS as _NODES

        MotionComicExpandPrompt = _NODES["MotionComicExpandPrompt"]

        order = list(MotionComicExpandPrompt.INPUT_TYPES()["required"])
        for n in data["nodes"]:
            if n.get("type") == "MotionComicExpandPrompt" and isinstance(n.get("widgets_values"), list):
                vals = n["widgets_values"]
                i = order.index("api_key_env")
                if i < len(vals) and isinstance(vals[i], str):
                    found.append(vals[i])
    elif isinstance(data, dict):  # API format
        for n in data.values():
            if isinstance(n, dict) and n.get("class_type") == "MotionComicExpandPrompt":
                v = n.get("inputs", {}).get("api_key_env", "")
                if isinstance(v, str):
                    found.append(v)
    return found
