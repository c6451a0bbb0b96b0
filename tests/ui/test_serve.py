"""qmigtui serve: the app in a web browser, for classroom demos.

A websocket client speaking the browser's side of the protocol checks the
status pane arrives; headless Chromium (Debian's) checks the page loads and
opens its session.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import require

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "converge.jsonl.gz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "qmigtui", "serve", "--port", str(port),
                             "replay", str(EXAMPLE), "--speed", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def test_a_browser_session_gets_the_status_pane(server):
    seen = b""
    async with aiohttp.ClientSession() as http:
        page = await http.get(f"http://{server}/")
        assert page.status == 200 and "qmigtui" in await page.text()
        async with http.ws_connect(f"ws://{server}/ws?width=120&height=40") as ws:
            deadline = time.monotonic() + 30
            while b"Status" not in seen or b"REPLAY" not in seen:
                if time.monotonic() > deadline:
                    break
                try:
                    msg = await asyncio.wait_for(ws.receive(), 2)
                except TimeoutError:
                    continue
                if msg.type == aiohttp.WSMsgType.BINARY:
                    seen += msg.data
                elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
            await ws.send_json(["stdin", "q"])
    assert b"Status" in seen and b"REPLAY" in seen and b"source" in seen


def test_headless_chromium_loads_the_page_and_opens_a_session(server):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    require(browser is not None, "chromium is not installed (apt-get install chromium)")
    out = subprocess.run([browser, "--headless=new", "--no-sandbox", "--disable-gpu",
                          "--disable-dev-shm-usage", "--virtual-time-budget=15000", "--dump-dom",
                          f"http://{server}/"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "qmigtui" in out.stdout
    assert "<canvas" in out.stdout  # xterm.js drew the session's terminal
