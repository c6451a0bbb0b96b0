"""qmigtui serve: the app in a web browser, for classroom demos, guarded.

A websocket client speaking the browser's side of the protocol checks the status pane
arrives with the token and that a request without it, or from a foreign page, is refused;
a lab served to a browser that leaves leaves no process, QEMU or lab directory; headless
Chromium (Debian's, driven over its DevTools protocol) shows the app and takes its keys.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.browser import Browser, chromium
from tests.conftest import require

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "converge.jsonl.gz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """A running ``qmigtui serve``: its address, the token it printed, its process."""

    def __init__(self, args: list[str], tmp_path: Path):
        self.port = free_port()
        env = dict(os.environ, XDG_STATE_HOME=str(tmp_path))
        self.log = tmp_path / "serve.log"  # what the server prints: its URL, then its log
        with self.log.open("w") as log:  # the child keeps its own copy of the file
            self.proc = subprocess.Popen([sys.executable, "-m", "qmigtui", "serve", "--port",
                                          str(self.port), "--max-sessions", "2", *args],
                                         stdout=log, stderr=subprocess.STDOUT, env=env, text=True)
        deadline = time.monotonic() + 30
        while not (found := re.search(r"token=(\S+)", self.log.read_text())):
            assert self.proc.poll() is None and time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.05)
        self.token = found.group(1)
        self.address = f"127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)

    def ws(self, token: str | None = None) -> str:
        return f"ws://{self.address}/ws/{token or self.token}?width=120&height=40"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def server(tmp_path) -> Iterator[Served]:
    served = Served(["replay", str(EXAMPLE), "--speed", "5"], tmp_path)
    yield served
    served.stop()


async def read_until(ws: aiohttp.ClientWebSocketResponse, *needles: bytes, timeout: float = 30) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while not all(n in seen for n in needles) and time.monotonic() < deadline:
        try:
            msg = await asyncio.wait_for(ws.receive(), 2)
        except TimeoutError:
            continue
        if msg.type == aiohttp.WSMsgType.BINARY:
            seen += msg.data
        elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            break
    return seen


async def test_a_browser_session_with_the_token_gets_the_status_pane(server):
    async with aiohttp.ClientSession() as http:
        page = await http.get(f"http://{server.address}/?token={server.token}")
        text = await page.text()
        assert page.status == 200 and "qmigtui" in text
        assert f"/ws/{server.token}\"" in text  # the page's websocket carries the token
        other = await http.get(f"http://localhost:{server.port}/?token={server.token}")
        assert f"http://localhost:{server.port}/static/" in await other.text()  # as the browser asked
        origin = {"Origin": f"http://{server.address}"}
        async with http.ws_connect(server.ws(), headers=origin) as ws:
            seen = await read_until(ws, b"Status", b"REPLAY")
            await ws.send_json(["stdin", "q"])
    assert b"Status" in seen and b"REPLAY" in seen and b"source" in seen


async def test_no_token_a_wrong_one_or_a_foreign_page_is_refused(server):
    async with aiohttp.ClientSession() as http:
        assert (await http.get(f"http://{server.address}/")).status == 403
        assert (await http.get(f"http://{server.address}/?token=guess")).status == 403
        for url, headers in ((server.ws("guess"), {}),
                             (server.ws(), {"Origin": "http://evil.example"}),
                             (server.ws(), {"Origin": f"http://{server.address}.evil.example"})):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                async with http.ws_connect(url, headers=headers):
                    pass
            assert refused.value.status == 403


async def test_sessions_beyond_the_cap_are_refused(server):
    async with aiohttp.ClientSession() as http, http.ws_connect(server.ws()) as one, \
            http.ws_connect(server.ws()) as two:
        await read_until(one, b"Status")
        await read_until(two, b"Status")
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with http.ws_connect(server.ws()):
                pass
        assert refused.value.status == 503


def lab_processes() -> list[str]:
    out = subprocess.run(["pgrep", "-af", "qmigtui-lab-"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "pgrep" not in line]


@pytest.mark.once  # our server's exit paths: nothing of the QEMU version in it
async def test_a_browser_that_leaves_a_lab_leaves_no_process_qemu_or_lab_directory(need_qemu, tmp_path):
    before = set(lab_processes())
    dirs_before = set(Path("/tmp").glob("qmigtui-lab-*"))
    served = Served(["lab", "--mem", "64", "--working-set", "8", "--dirty-rate", "2"], tmp_path)
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(served.ws()) as ws:
            seen = await read_until(ws, b"LAB", b"connected", timeout=60)
            assert b"LAB" in seen
            assert set(lab_processes()) - before, "the lab did not start"
            # the browser is gone (its socket closed without a word)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (set(lab_processes()) - before or
                                               set(Path("/tmp").glob("qmigtui-lab-*")) - dirs_before):
            await asyncio.sleep(0.2)
        assert not set(lab_processes()) - before, "a QEMU or relay of the session still runs"
        assert not set(Path("/tmp").glob("qmigtui-lab-*")) - dirs_before, "a lab directory stayed"
        def children() -> list[str]:
            return subprocess.run(["pgrep", "-P", str(served.proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        while time.monotonic() < deadline and children():
            await asyncio.sleep(0.2)
        assert not children(), f"the session's child still runs: {children()}"
        async with aiohttp.ClientSession() as http, http.ws_connect(served.ws()) as ws:
            await read_until(ws, b"LAB", b"connected", timeout=60)
            served.stop()  # the server itself goes (SIGTERM) while a browser is on a lab
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and set(lab_processes()) - before:
            await asyncio.sleep(0.2)
        assert not set(lab_processes()) - before, "a session's lab outlived the server"
    finally:
        served.stop()


def test_a_bad_host_or_a_busy_port_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for args, needle in ((["--host", "nosuch.invalid"], "not an address here"),
                             (["--port", str(port)], "cannot listen there")):
            out = subprocess.run([sys.executable, "-m", "qmigtui", "serve", *args, "replay",
                                  str(EXAMPLE)], capture_output=True, text=True, timeout=30)
            assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr
            assert len([ln for ln in out.stderr.splitlines() if needle in ln]) == 1


async def test_a_real_browser_shows_the_app_and_its_keys_reach_it(server, tmp_path):
    require(chromium() is not None, "chromium is not installed (apt-get install chromium)")
    async with Browser() as browser:
        await browser.open(f"http://{server.address}/?token={server.token}")
        # the app's own words reach the page's terminal: a session, not "Session ended"
        await browser.wait_for("window.__qmigtui.received.includes('REPLAY')")
        assert "Status" in await browser.received()
        url = await browser.evaluate("window.__qmigtui.url")
        assert url.startswith(f"ws://{server.address}/ws/{server.token}?width=")  # one query
        assert not await browser.evaluate("document.body.classList.contains('-closed')")
        shot = await browser.screenshot(tmp_path / "serve.png")
        assert shot.stat().st_size > 10_000  # a drawn terminal, not a blank page
        assert "(command palette)" not in await browser.received()
        await browser.type("?")  # the help screen: only the app draws it, on this key
        await browser.wait_for("window.__qmigtui.received.includes('(command palette)')")
        assert '["stdin","?"]' in await browser.evaluate("window.__qmigtui.sent")
    log = server.log.read_text()
    assert "websocket upgraded" in log and "Traceback" not in log


async def test_a_plain_get_of_the_websocket_is_400_and_static_lists_nothing(server):
    async with aiohttp.ClientSession() as http:
        plain = await http.get(f"http://{server.address}/ws/{server.token}")
        assert plain.status == 400
        for listing in ("/static/", "/static", "/static/js/"):
            answer = await http.get(f"http://{server.address}{listing}")
            assert answer.status in (403, 404), listing
            assert "textual.js" not in await answer.text()
        assert (await http.get(f"http://{server.address}/static/js/textual.js")).status == 200
        assert (await http.get(f"http://{server.address}/ws?token={server.token}")).status in (403, 404)
    log = server.log.read_text()
    assert "Traceback" not in log and "Error handling request" not in log
