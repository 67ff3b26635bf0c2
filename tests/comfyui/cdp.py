"""Drive a headless Chromium (Debian's ``chromium``) over the DevTools protocol, stdlib only.

Uses the pack's own RFC 6455 client (``motioncomic.remote.ws``) for the DevTools websocket.
``with Chromium() as c: c.goto(url); c.evaluate("1 + 1")``; exceptions thrown in the page are
collected in ``c.exceptions``; console messages, browser log entries and those exceptions in
``c.console`` as ``(kind, text, url)`` (kind ``error``/``warning``/``log``/... or ``pageerror``);
with ``c.call("Network.enable")`` response statuses in ``c.responses`` (url without query -> status).
Events are read while a call is waiting for its answer, or for a while with ``c.pump(seconds)``.
"""
from __future__ import annotations

import base64
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
    def __init__(self, timeout: float = 30.0, viewport: tuple[int, int] = (1600, 1000)):
        from motioncomic.remote.ws import WebSocket

        exe = chromium_path()
        if exe is None:
            raise RuntimeError("chromium not found (Debian: apt-get install chromium)")
        self.profile = tempfile.mkdtemp(prefix="mc-chromium-")
        port = launch.free_port()
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", f"--remote-debugging-port={port}", f"--user-data-dir={self.profile}",
             f"--window-size={viewport[0]},{viewport[1]}", "about:blank"],
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
        self.console: list[tuple[str, str, str]] = []
        self.responses: dict[str, int] = {}
        self.call("Runtime.enable")
        self.call("Page.enable")
        self.call("Log.enable")
        # the window size includes browser chrome even headless: pin the page's own size
        self.call("Emulation.setDeviceMetricsOverride", width=viewport[0], height=viewport[1],
                  deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params) -> dict:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            self._event(msg)
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def _event(self, msg: dict) -> None:
        method, p = msg.get("method"), msg.get("params") or {}
        if method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            text = (d.get("exception") or {}).get("description") or d.get("text", "?")
            self.exceptions.append(text)
            self.console.append(("pageerror", text, d.get("url", "")))
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a["value"]) if "value" in a else a.get("description", a.get("type", ""))
                            for a in p.get("args", []))
            frames = (p.get("stackTrace") or {}).get("callFrames") or [{}]
            self.console.append((p.get("type", "log"), text, frames[0].get("url", "")))
        elif method == "Log.entryAdded":
            e = p["entry"]
            self.console.append((e.get("level", "info"), e.get("text", ""), e.get("url", "")))
        elif method == "Network.responseReceived":
            r = p["response"]
            self.responses[r["url"].split("?")[0]] = r["status"]

    def pump(self, seconds: float) -> None:
        """Let the page run for ``seconds`` while collecting its events (console, exceptions)."""
        end = time.monotonic() + seconds
        try:
            while (left := end - time.monotonic()) > 0:
                self.ws.settimeout(left)
                try:
                    self._event(json.loads(self.ws.recv()))
                except TimeoutError:
                    break
        finally:
            self.ws.settimeout(120)

    def press(self, key: str, code: int) -> None:
        """A real key press (keyDown + keyUp), e.g. ``press("Escape", 27)``."""
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code)

    def screenshot(self, path) -> None:
        """PNG of the visible page at ``path``."""
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

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
