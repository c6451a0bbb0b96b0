"""Debian's headless Chromium driven over the DevTools protocol (aiohttp's websocket client):
open a page, read what reaches its terminal, type keys into it, take a screenshot, and read
the errors the page's scripts met (``window.__qmigtui.errors``).

The page draws its terminal on a canvas (xterm.js), which has no text to read, so a script
installed before the page's own taps every websocket the page opens: the bytes the app sent
and the keys the page sent back are readable from the test, as the page received them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

TAP = """
window.__qmigtui = {url: "", received: "", sent: [], errors: []};
window.addEventListener("error", (e) => window.__qmigtui.errors.push(String(e.message)));
(() => {
  const logError = console.error.bind(console);
  console.error = (...args) => {
    window.__qmigtui.errors.push(args.map(String).join(" "));
    logError(...args);
  };
})();
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.WebSocket = function (url, protocols) {
    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
    window.__qmigtui.url = String(url);
    socket.addEventListener("message", (e) => {
      if (typeof e.data !== "string") window.__qmigtui.received += decoder.decode(e.data, {stream: true});
    });
    const send = socket.send.bind(socket);
    socket.send = (data) => { window.__qmigtui.sent.push(String(data)); send(data); };
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,800")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Browser:
    """One headless Chromium with one page; ``async with Browser() as b: await b.open(url)``."""

    def __init__(self) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="qmigtui-chromium-", ignore_cleanup_errors=True)
        self._port = _free_port()
        self._ids = itertools.count(1)
        self._proc: subprocess.Popen[bytes] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> Browser:
        binary = chromium()
        assert binary is not None
        self._proc = subprocess.Popen(
            [binary, *FLAGS, f"--remote-debugging-port={self._port}",
             f"--user-data-dir={self._profile.name}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self._http = aiohttp.ClientSession()
        deadline = time.monotonic() + 60
        while True:
            try:
                async with self._http.get(f"http://127.0.0.1:{self._port}/json/list") as r:
                    pages = [t for t in await r.json() if t.get("type") == "page"]
                if pages:
                    break
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline or self._proc.poll() is not None:
                raise RuntimeError("chromium did not start")
            await asyncio.sleep(0.2)
        self._ws = await self._http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        await self.call("Page.enable")
        await self.call("Page.addScriptToEvaluateOnNewDocument", source=TAP)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._http is not None:
            await self._http.close()
        if self._proc is not None:  # chromium and every helper process it started
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(10)
        self._profile.cleanup()

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; its result (events that come meanwhile are let go)."""
        assert self._ws is not None
        ident = next(self._ids)
        await self._ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            msg = json.loads((await asyncio.wait_for(self._ws.receive(), 60)).data)
            if msg.get("id") == ident:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))

    async def open(self, url: str) -> None:
        await self.call("Page.navigate", url=url)

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, timeout: float = 60) -> Any:
        """The value of ``expression`` once it is truthy; RuntimeError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.25)
        raise RuntimeError(f"timed out after {timeout:g} s waiting for {expression}")

    async def received(self) -> str:
        """What the page's terminal received from the app so far (escape sequences and all)."""
        return str(await self.evaluate("window.__qmigtui.received"))

    async def type(self, text: str) -> None:
        """Keys typed into the page's terminal, one at a time, as a person would (its
        keyboard input, xterm's text area, focused first)."""
        await self.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
        for ch in text:
            await self.call("Input.dispatchKeyEvent", type="keyDown", text=ch, key=ch,
                            unmodifiedText=ch)
            await self.call("Input.dispatchKeyEvent", type="keyUp", key=ch)

    async def screenshot(self, path: Path) -> Path:
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path
