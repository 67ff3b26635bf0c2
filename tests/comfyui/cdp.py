"""Drive a headless Chromium (Debian's ``chromium``) over the DevTools protocol, stdlib only.

Uses the pack's own RFC 6455 client (``motioncomic.remote.ws``) for the DevTools websocket.
``with Chromium() as c: c.goto(url); c.evaluate("1 + 1")``; exceptions thrown in the page are
collected in ``c.exceptions``.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.request

import launch


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


class Chromium:
    def __init__(self, timeout: float = 30.0):
        from motioncomic.remote.ws import WebSocket

        exe = chromium_path()
        if exe is None:
            raise RuntimeError("chromium not found (Debian: apt-get install chromium)")
        self.profile = tempfile.mkdtemp(prefix="mc-chromium-")
        port = launch.free_port()
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", f"--remote-debugging-port={port}", f"--user-data-dir={self.profile}",
             "--window-size=1600,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        t0 = time.monotonic()
        while True:
            try:
                tabs = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2).read())
                page = next(t for t in tabs if t.get("type") == "page")
                break
            except (OSError, StopIteration, ValueError):
                if time.monotonic() - t0 > timeout:
                    self.close()
                    raise RuntimeError("chromium did not open its DevTools port")
                time.sleep(0.2)
        self.ws = WebSocket.connect(page["webSocketDebuggerUrl"], timeout=timeout)
        self.ws.settimeout(120)
        self._id = 0
        self.exceptions: list[str] = []
        self.call("Runtime.enable")
        self.call("Page.enable")

    def call(self, method: str, **params) -> dict:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == "Runtime.exceptionThrown":
                d = msg["params"]["exceptionDetails"]
                self.exceptions.append((d.get("exception") or {}).get("description") or d.get("text", "?"))
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def evaluate(self, expression: str):
        """Evaluate JS (awaiting promises); returns the JSON value or raises with the JS error."""
        res = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            raise RuntimeError((d.get("exception") or {}).get("description") or d.get("text"))
        return res.get("result", {}).get("value")

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def wait_for(self, expression: str, timeout: float = 120.0):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            try:
                v = self.evaluate(expression)
                if v:
                    return v
            except RuntimeError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"page never satisfied: {expression}")

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
