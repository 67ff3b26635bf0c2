"""What a workflow may make the server do with the LLM client: the server owner's rules.

A workflow is untrusted (downloaded from strangers, queued by anyone who can reach a shared server),
so its ``base_url`` and ``api_key_env`` are checked against rules only the owner sets, in the
environment of the ComfyUI process or in a JSON file (``$MOTIONCOMIC_CONFIG``, default
``~/.config/motioncomic/config.json``; environment variables win):

- ``MOTIONCOMIC_KEY_ENVS`` / ``"key_envs"``: extra environment-variable names a workflow may name as
  ``api_key_env``. Always allowed: names ending in ``_API_KEY`` or ``_TOKEN`` (``OPENAI_API_KEY``,
  ``HF_TOKEN``); never: anything else (``HOME``, ``PATH``, ``AWS_SECRET_ACCESS_KEY``).
- ``MOTIONCOMIC_LLM_HOSTS`` / ``"llm_hosts"``: extra hosts, IP addresses or networks (CIDR) a
  workflow may reach, e.g. ``192.168.1.20,10.0.0.0/8,llm.lan``. Always allowed: loopback (any scheme)
  and public hosts over HTTPS. Every address that is not public (:func:`is_public`) only when listed:
  private, link-local, multicast, reserved, shared/CGNAT space (the LAN, cloud metadata at
  169.254.169.254 and Alibaba's 100.100.100.200), and IPv6 6to4/Teredo/NAT64 addresses that wrap
  one of those; ``MOTIONCOMIC_LLM_ALLOW_PRIVATE=1`` allows them all.

- ``MOTIONCOMIC_KEY_HOSTS`` / ``"key_hosts"``: the hosts each key may be sent to, as
  ``NAME=host[,host...]`` entries separated by ``;``, e.g.
  ``STUDIO_API_KEY=llm.studio.example;OPENAI_API_KEY=api.openai.com,openai.corp.example``; in the
  file an object ``{"STUDIO_API_KEY": ["llm.studio.example"]}`` (or that same string). A name bound
  here is also one a workflow may name as ``api_key_env``.

Where a key goes: a workflow chooses both ``base_url`` and ``api_key_env``, so the key in variable
``NAME`` is sent only (a) to this machine (loopback, any scheme), (b) to the hosts the owner bound
``NAME`` to, or (c) for well-known providers' variables, to the provider's official API hosts
(:data:`KEY_HOSTS`: ``OPENAI_API_KEY`` to ``api.openai.com``, ...). Hosts match exactly, case-
insensitively: a subdomain is another host (bind it explicitly). Anything else is refused before
any connection, with the line the owner would add to allow it. Away from loopback a key travels
over HTTPS only. Credentials written inside a URL (``https://user:pass@host``) are refused and
never logged, shown or stored: ``redact_url`` is what every message and cache key uses.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import urllib.parse
from pathlib import Path

from ..errors import MotionComicError

class PolicyError(MotionComicError):
    """The workflow asked for something the server owner does not allow (never a fallback)."""


KEY_SUFFIXES = ("_API_KEY", "_TOKEN")
#: Largest reply body we read from an LLM server (a caption is a few kB; reasoning models ~100 kB).
MAX_REPLY_BYTES = 4 * 1024 * 1024
#: Well-known providers' key variables and their official OpenAI-compatible API hosts: the keys may
#: go there without the owner binding them (exact host match; the owner's MOTIONCOMIC_KEY_HOSTS adds).
KEY_HOSTS: dict[str, tuple[str, ...]] = {
    "OPENAI_API_KEY": ("api.openai.com",),
    "DEEPSEEK_API_KEY": ("api.deepseek.com",),
    "DASHSCOPE_API_KEY": ("dashscope.aliyuncs.com", "dashscope-intl.aliyuncs.com"),
    "OPENROUTER_API_KEY": ("openrouter.ai",),
    "GROQ_API_KEY": ("api.groq.com",),
    "MOONSHOT_API_KEY": ("api.moonshot.cn", "api.moonshot.ai"),
    "MISTRAL_API_KEY": ("api.mistral.ai",),
    "TOGETHER_API_KEY": ("api.together.xyz",),
    "SILICONFLOW_API_KEY": ("api.siliconflow.cn",),
    "GEMINI_API_KEY": ("generativelanguage.googleapis.com",),
    "XAI_API_KEY": ("api.x.ai",),
    "HF_TOKEN": ("router.huggingface.co",),  # Hugging Face's inference router (/v1)
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HOST = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*")
KEY_HOSTS_EXAMPLE = "MOTIONCOMIC_KEY_HOSTS=STUDIO_API_KEY=llm.studio.example;OTHER_TOKEN=a.example,b.example"


def _config_path() -> Path:
    return Path(os.environ.get("MOTIONCOMIC_CONFIG") or Path.home() / ".config" / "motioncomic" / "config.json")


def _config() -> dict:
    path = _config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _owner_list(env: str, key: str) -> list[str]:
    raw = os.environ.get(env)
    if raw is None:
        value = _config().get(key, [])
        items = value if isinstance(value, list) else str(value).split(",")
    else:
        items = raw.split(",")
    return [str(i).strip() for i in items if str(i).strip()]


def allowed_key_env(name: str) -> bool:
    return (name.upper().endswith(KEY_SUFFIXES) or name in _owner_list("MOTIONCOMIC_KEY_ENVS", "key_envs")
            or name in _owner_key_hosts())


def _host_key(host: str | None) -> str:
    """A host as bindings compare it: lower case, no trailing dot, no IPv6 brackets."""
    return (host or "").strip().strip("[]").lower().rstrip(".")


def _bound_hosts(where: str, name: str, hosts) -> set[str]:
    out = set()
    for item in hosts:
        host = _host_key(str(item))
        if not host:
            continue
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not _HOST.fullmatch(host):
                raise PolicyError(f"{where}: {str(item).strip()!r} (for {name}) is not a host name or IP address; "
                                  "write the host only (e.g. api.openai.com), no scheme, port or path") from None
        out.add(host)
    return out


def _owner_key_hosts() -> dict[str, set[str]]:
    """The owner's ``MOTIONCOMIC_KEY_HOSTS`` (or ``"key_hosts"`` in the config file): name -> hosts."""
    raw = os.environ.get("MOTIONCOMIC_KEY_HOSTS")
    where = "MOTIONCOMIC_KEY_HOSTS"
    if raw is None:
        value = _config().get("key_hosts", {})
        where = f"\"key_hosts\" in {_config_path()}"
        if isinstance(value, dict):
            pairs = [(str(k).strip(), v if isinstance(v, list) else str(v).split(",")) for k, v in value.items()]
            raw = None
        else:
            raw = ";".join(map(str, value)) if isinstance(value, list) else str(value)
    if raw is not None:
        pairs = []
        for entry in raw.split(";"):
            if not entry.strip():
                continue
            name, sep, hosts = entry.partition("=")
            pairs.append((name.strip(), hosts.split(",") if sep else None))
    out: dict[str, set[str]] = {}
    for name, hosts in pairs:
        if hosts is None or not _NAME.fullmatch(name):
            raise PolicyError(f"{where}: the entry {name!r} is not NAME=host[,host...] (entries separated by "
                              f"';'), e.g. {KEY_HOSTS_EXAMPLE}")
        out.setdefault(name, set()).update(_bound_hosts(where, name, hosts))
    return out


def key_hosts(name: str) -> set[str]:
    """The hosts (besides loopback) the key in variable ``name`` may be sent to."""
    if not name:
        return set()
    return set(KEY_HOSTS.get(name, ())) | _owner_key_hosts().get(name, set())


def _binding_line(name: str, host: str) -> str:
    """Exactly what the owner adds to let the key in ``name`` go to ``host``."""
    if os.environ.get("MOTIONCOMIC_KEY_HOSTS") is None and "key_hosts" in _config():
        merged = {k: sorted(v) for k, v in _owner_key_hosts().items()}
        merged[name] = sorted({*merged.get(name, []), host})
        return f'set "key_hosts": {json.dumps(merged)} in {_config_path()}'
    merged = {k: set(v) for k, v in _owner_key_hosts().items()}
    merged.setdefault(name, set()).add(host)
    value = ";".join(f"{k}={','.join(sorted(v))}" for k, v in merged.items())
    return f"set MOTIONCOMIC_KEY_HOSTS={value} in ComfyUI's environment (or \"key_hosts\" in {_config_path()})"


def _key_refusal(name: str, parts: urllib.parse.SplitResult, loopback: bool) -> str | None:
    """None if the key in ``name`` may go to ``parts``' host (``loopback``: the host is this machine)."""
    if loopback:
        return None
    host = _host_key(parts.hostname)
    allowed = key_hosts(name)
    if host in allowed:
        if parts.scheme == "https":
            return None
        return (f"the API key is sent only over https or to this machine (loopback); "
                f"{redact_url(parts.geturl())!r} is plain http")
    if not name:
        return f"an API key given without its variable's name goes only to this machine (loopback), not to {host!r}"
    where = "only to this machine (loopback)" + (f" and {', '.join(sorted(allowed))}" if allowed else "")
    return (f"the API key in {name} may not be sent to {host!r}: it goes {where}, because a workflow chooses "
            f"both the server and the key. If you own this server and trust {host} with {name}, "
            f"{_binding_line(name, host)}")


def _is_loopback(addr: str) -> bool:
    try:
        return _unmapped(ipaddress.ip_address(addr.split("%", 1)[0])).is_loopback
    except ValueError:
        return False


def _resolves_to_loopback(parts: urllib.parse.SplitResult) -> bool:
    host = parts.hostname or ""
    try:
        addrs = {i[4][0] for i in socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return False
    return bool(addrs) and all(_is_loopback(a) for a in addrs)


def check_key_host(name: str, parts: urllib.parse.SplitResult, via_proxy: bool = False) -> None:
    """Before connecting: refuse unless the key in variable ``name`` may go to ``parts``' host (see
    the module doc). Through a proxy the proxy resolves the host, so loopback does not count there."""
    why = _key_refusal(name, parts, False)
    if why and (via_proxy or not _resolves_to_loopback(parts)):  # a bound host is not even looked up
        raise PolicyError(why + ".")


def check_key_peer(name: str, parts: urllib.parse.SplitResult, peer: str | None) -> None:
    """After connecting (``peer``: the address reached, None through a proxy): the same rule, so a
    host that resolved to loopback at the check and elsewhere at the connection gets no key."""
    why = _key_refusal(name, parts, peer is not None and _is_loopback(peer))
    if why:
        raise PolicyError(why + ".")


def check_key_env(name: str) -> str:
    """``name`` if the owner lets workflows read that variable as an API key, else an error."""
    if not allowed_key_env(name):
        raise PolicyError(
            f"api_key_env {name!r} is not allowed: a workflow may only name variables ending in _API_KEY "
            "or _TOKEN (e.g. OPENAI_API_KEY), or those the server owner lists in MOTIONCOMIC_KEY_ENVS. "
            "This keeps a shared workflow from sending other secrets of the server to a server of its choice.")
    return name


def redact_url(url: str) -> str:
    """``url`` without user, password, query and fragment (what may be shown, logged or stored)."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        return "(invalid URL)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if _port(parts) else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _port(parts) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def _networks() -> tuple[list, list[str]]:
    nets, names = [], []
    for item in _owner_list("MOTIONCOMIC_LLM_HOSTS", "llm_hosts"):
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            names.append(item.lower().rstrip("."))
    return nets, names


#: Not public although some Python versions call them global: IETF protocol assignments, NAT64 for
#: local use (RFC 8215). Shared address space (CGNAT, 100.64.0.0/10) is not global in any version.
_NOT_PUBLIC = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("100.64.0.0/10"),
               ipaddress.ip_network("64:ff9b:1::/48"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _unmapped(ip):
    """``::ffff:a.b.c.d`` is the IPv4 address itself (the kernel connects over IPv4)."""
    return getattr(ip, "ipv4_mapped", None) or ip


def _embedded(ip) -> list:
    """The IPv4 addresses an IPv6 address carries to: 6to4 (2002::/16), Teredo (server and client)
    and NAT64 (64:ff9b::/96, the last 32 bits)."""
    if ip.version != 6:
        return []
    out = [ip.sixtofour] if ip.sixtofour else []
    out += list(ip.teredo or ())
    if ip in _NAT64:
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def is_public(ip) -> bool:
    """True only for a globally routable address that wraps no other kind: CGNAT (100.64.0.0/10,
    Alibaba's metadata at 100.100.100.200), 6to4/Teredo/NAT64 addresses wrapping a private or
    link-local one (169.254.169.254) are not public."""
    def plain(a) -> bool:
        return (a.is_global and not (a.is_private or a.is_link_local or a.is_multicast or a.is_reserved
                                     or a.is_unspecified or a.is_loopback)
                and not any(a in n for n in _NOT_PUBLIC))

    ip = _unmapped(ip)
    inner = [_unmapped(a) for a in _embedded(ip)]
    if ip in _NAT64:  # a translation of the IPv4 address it carries (Python calls ::/8 reserved)
        return ip.is_global and all(plain(a) for a in inner)
    return plain(ip) and all(plain(a) for a in inner)


def _address_allowed(addr: str, scheme: str, host_listed: bool) -> str | None:
    """None if ``addr`` may be reached over ``scheme``, else why not."""
    ip = _unmapped(ipaddress.ip_address(addr.split("%", 1)[0]))
    if ip.is_loopback:
        return None
    nets, _ = _networks()
    listed = host_listed or any(ip in n for n in nets)
    if listed:
        return None
    if not is_public(ip):
        if os.environ.get("MOTIONCOMIC_LLM_ALLOW_PRIVATE") == "1":
            return None
        return (f"{ip} is a private or link-local address, or another one that is not public (shared/CGNAT "
                "100.64.0.0/10, reserved, or a 6to4/Teredo/NAT64 address wrapping such an address); the "
                "server owner can allow it with MOTIONCOMIC_LLM_HOSTS (host, IP or network) or "
                "MOTIONCOMIC_LLM_ALLOW_PRIVATE=1")
    if scheme != "https":
        return "public servers are reached over https only (use an https:// URL)"
    return None


def check_url(url: str) -> urllib.parse.SplitResult:
    """Parse and check ``url`` before anything is sent. Raises :class:`MotionComicError` with a
    message that names only the redacted URL."""
    text = (url or "").strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urllib.parse.urlsplit(text)
        _ = parts.port
    except ValueError:
        raise PolicyError(f"base_url {redact_url(text)!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PolicyError(f"base_url {redact_url(text)!r} is not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise PolicyError(
            "base_url contains credentials (user:password@): they would be saved in the workflow. Remove "
            "them and put the key in an environment variable named in api_key_env.")
    return parts


def resolve_checked(parts: urllib.parse.SplitResult) -> None:
    """Refuse the URL's host unless every address it resolves to is allowed (see the module doc)."""
    host = parts.hostname or ""
    _, names = _networks()
    listed = host.lower().rstrip(".") in names
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise PolicyError(f"cannot resolve the LLM host {host!r}") from None
    for info in infos:
        why = _address_allowed(info[4][0], parts.scheme, listed)
        if why:
            raise PolicyError(f"the LLM server {redact_url(parts.geturl())!r} is not allowed: {why}.")


def check_via_proxy(parts: urllib.parse.SplitResult) -> None:
    """Through the owner's proxy the proxy resolves the host: only https, or a host the owner lists."""
    _, names = _networks()
    if parts.scheme != "https" and (parts.hostname or "").lower().rstrip(".") not in names:
        raise PolicyError(f"the LLM server {redact_url(parts.geturl())!r} is not allowed: public servers are "
                          "reached over https only (or list the host in MOTIONCOMIC_LLM_HOSTS)")


def check_peer(sock: socket.socket, parts: urllib.parse.SplitResult) -> None:
    """After connecting: the address actually reached must be allowed too (DNS may have changed
    between the check and the connection)."""
    _, names = _networks()
    listed = (parts.hostname or "").lower().rstrip(".") in names
    why = _address_allowed(sock.getpeername()[0], parts.scheme, listed)
    if why:
        raise PolicyError(f"the LLM server {redact_url(parts.geturl())!r} is not allowed: {why}.")


def key_may_go(parts: urllib.parse.SplitResult, peer: str | None = None, name: str = "") -> bool:
    """Whether the key in variable ``name`` may go to ``parts`` reached at ``peer``: a loopback peer,
    or over HTTPS a host the key is bound to."""
    return _key_refusal(name, parts, peer is not None and _is_loopback(peer)) is None
