"""Headless Chromium for the tests, driven over the Chrome DevTools Protocol.

The browser is Debian's ``chromium`` (``.ci/run`` installs it; $CREDIT_CHROMIUM names
another). It speaks the protocol over a pipe (``--remote-debugging-pipe``: it reads
commands from file descriptor 3 and writes answers and events to 4, each a JSON text
ended by a NUL byte), so the client needs no WebSocket library and no port: this module
and the standard library are all of it. (Playwright would have brought a 40 MB driver and
its own idea of which browser build it supports.)

A page is opened in a fresh profile; every event the page causes is kept, so that a
test can look at its console messages, exceptions and network requests afterwards.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

TIMEOUT = 30.0  # seconds for one answer or event


class BrowserUnavailable(Exception):
    """No Chromium here, or it would not start (the reason says which)."""


def chromium_path() -> str | None:
    return os.environ.get("CREDIT_CHROMIUM") or shutil.which("chromium") or \
        shutil.which("chromium-browser")


class Chromium:
    """One headless browser process and one page in it."""

    def __init__(self, width: int = 1280, height: int = 900):
        executable = chromium_path()
        if executable is None:
            raise BrowserUnavailable("Chromium is not installed (Debian: apt-get install "
                                     "chromium; .ci/run installs it)")
        self.profile = tempfile.mkdtemp(prefix="credit-chromium-")
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()

        def descriptors_3_and_4() -> None:  # in the child, before exec
            high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        try:
            self.process = subprocess.Popen(
                [executable, "--headless", "--no-sandbox", "--disable-gpu",
                 "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
                 "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--hide-scrollbars", "--mute-audio",
                 f"--window-size={width},{height}", "about:blank"],
                preexec_fn=descriptors_3_and_4, pass_fds=(3, 4),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
        except OSError as exc:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise BrowserUnavailable(f"Chromium would not start: {exc}") from None
        finally:
            os.close(to_browser_r)
            os.close(from_browser_w)
        self._out = to_browser_w
        self._in = from_browser_r
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session: str | None = None
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"},
                               session=False)["targetId"]
            self.session = self.call("Target.attachToTarget",
                                     {"targetId": target, "flatten": True},
                                     session=False)["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.call(f"{domain}.enable")
        except (OSError, TimeoutError, RuntimeError) as exc:
            self.close()
            raise BrowserUnavailable(f"Chromium did not answer over its pipe: {exc}") \
                from None

    # -- the protocol ---------------------------------------------------------------------
    def call(self, method: str, params: dict | None = None, *, session: bool = True) -> dict:
        """Send a command (to the page's session unless ``session`` is False) and wait for
        its answer; events that arrive meanwhile are kept in ``events``."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error'].get('message')}")
                return answer.get("result", {})

    def wait_for(self, method: str, since: int = 0) -> dict:
        """The first event ``method`` at or after index ``since`` of ``events``."""
        while True:
            for event in self.events[since:]:
                if event["method"] == method:
                    return event["params"]
            since = len(self.events)
            self._read()

    def _read(self) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium in time")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise OSError("Chromium closed its pipe")
            self._buffer += chunk
        text, _, self._buffer = self._buffer.partition(b"\0")
        message = json.loads(text)
        if "method" in message:
            self.events.append(message)
        return message

    # -- what a test does -----------------------------------------------------------------
    def open(self, url: str) -> None:
        """Load ``url`` and wait until its load event."""
        since = len(self.events)
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired", since)

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page (JSON-like values only)."""
        result = self.call("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def screenshot(self, path: Path, height: int | None = None) -> Path:
        """The whole page (not only the window; its first ``height`` pixels if given) as a
        PNG file."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        data = self.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"],
                     "height": min(height or size["height"], size["height"]),
                     "scale": 1}})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def console_errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and the browser's own error
        log entries (a failed load, a refused script) seen so far."""
        found = []
        for event in self.events:
            params = event["params"]
            if event["method"] == "Runtime.consoleAPICalled" and \
                    params["type"] in ("error", "warning", "assert"):
                found.append(" ".join(str(arg.get("value", arg.get("description", "")))
                                      for arg in params["args"]))
            elif event["method"] == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text", "exception"))
            elif event["method"] == "Log.entryAdded" and \
                    params["entry"]["level"] in ("error", "warning"):
                found.append(params["entry"]["text"])
        return found

    def requests(self) -> list[str]:
        """The URL of every request the page made so far."""
        return [event["params"]["request"]["url"] for event in self.events
                if event["method"] == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                with contextlib.suppress(OSError, TimeoutError, RuntimeError):
                    self.call("Browser.close", session=False)
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            for fd in (self._out, self._in):
                with contextlib.suppress(OSError):
                    os.close(fd)
            shutil.rmtree(self.profile, ignore_errors=True)
