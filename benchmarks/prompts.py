"""Prompt-expansion benchmark: cache hit vs miss, and what a dead server costs vs the timeout.

Runs against a real chat-completions server on 127.0.0.1 (the test server of
``tests/tiny_prompts.py``): an instant one (pure client + HTTP overhead) and one that waits
``--latency`` seconds like a real LLM generating. Dead servers: a closed port (connection refused)
and a socket that accepts connections but never answers.

    OMP_NUM_THREADS=1 python benchmarks/prompts.py [--latency 0.5] [--timeouts 1 3]
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
if "motioncomic" not in sys.modules:
    spec = importlib.util.spec_from_file_location("motioncomic", ROOT / "__init__.py",
                                                  submodule_search_locations=[str(ROOT)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules["motioncomic"] = mod
    spec.loader.exec_module(mod)

import tiny_prompts as tp  # noqa: E402
from motioncomic.prompts.cache import PromptCache  # noqa: E402
from motioncomic.prompts.expand import LLMSettings, expand_prompt  # noqa: E402


def timed(fn, n: int) -> float:
    """Median seconds of ``n`` calls of ``fn(i)``."""
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--latency", type=float, default=0.5, help="simulated LLM generation time (s)")
    ap.add_argument("--timeouts", type=float, nargs="+", default=[1.0, 3.0])
    ap.add_argument("-n", type=int, default=20)
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)

    with tp.ChatServer() as srv:
        srv.slow_seconds = args.latency
        for model, label in (("normal", "instant server"), ("slow", f"LLM taking {args.latency:.2f} s")):
            cache = PromptCache()
            n = args.n if model == "normal" else max(3, args.n // 4)

            def miss(i, model=model, cache=cache):
                s = LLMSettings(base_url=srv.base_url, model=model, seed=i, timeout=30)
                assert expand_prompt("她挥手", settings=s, cache=cache).source == "llm"

            def hit(i, model=model, cache=cache):
                s = LLMSettings(base_url=srv.base_url, model=model, seed=0, timeout=30)
                assert expand_prompt("她挥手", settings=s, cache=cache).source == "cache"

            t_miss = timed(miss, n)
            calls = srv.calls[model]
            t_hit = timed(hit, args.n)
            assert srv.calls[model] == calls, "a cache hit reached the server"
            print(f"cache [{label}]: miss {t_miss * 1e3:8.2f} ms, hit {t_hit * 1e3:6.3f} ms, "
                  f"miss/hit = {t_miss / t_hit:8.0f}x")

    rules = timed(lambda i: expand_prompt("她挥手", settings=LLMSettings(backend="rules")), args.n)
    print(f"rule-based fallback alone: {rules * 1e3:.3f} ms")
    for timeout in args.timeouts:
        refused = LLMSettings(base_url=f"http://127.0.0.1:{tp.free_port()}/v1", timeout=timeout)
        t_ref = timed(lambda i: expand_prompt("she waves", settings=refused, cache=PromptCache()), 1)
        sock = tp.silent_socket()
        try:
            hung = LLMSettings(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}/v1", timeout=timeout)
            t_hung = timed(lambda i: expand_prompt("she waves", settings=hung, cache=PromptCache()), 1)
        finally:
            sock.close()
        print(f"dead server, timeout {timeout:.1f} s: connection refused {t_ref:.3f} s "
              f"({t_ref / timeout:.3f}x timeout), "
              f"no answer {t_hung:.3f} s ({t_hung / timeout:.2f}x timeout)")


if __name__ == "__main__":
    main()
