"""``qmigtui serve``: the app in web browsers, for a class, guarded.

Each browser session runs its own ``qmigtui ARGS`` (textual-serve).  A web page anyone
opens could otherwise drive it, and through it QEMU, so:

- every page needs the random token printed at start (``?token=``), and every websocket
  carries it in its path (``/ws/TOKEN``: the page appends ``?width=...`` to that URL itself);
- a websocket whose Origin is not this server's own is refused (a foreign page);
- the server listens on 127.0.0.1 unless told otherwise, serves at most ``max_sessions``
  browsers at once, and passes ``--read-only`` on when asked;
- a browser that leaves takes its session with it: the child is asked to quit, then
  stopped (SIGTERM, then SIGKILL) with its whole process group, so its lab QEMUs go too.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from qmigtui.lab.pair import remove_stale_dirs
from qmigtui.qmp import children

QUIT_GRACE = 8.0  # seconds a child may take to close its sessions and lab after the browser left
SHUTDOWN_GRACE = 2.0  # seconds the children get when the server itself stops
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def log(line: str) -> None:
    """One line of the server's log (its standard error)."""
    print(f"qmigtui serve: {line}", file=sys.stderr, flush=True)


class ServeError(Exception):
    """The server cannot start; ``str()`` is one line."""


class SessionService(AppService):
    """One browser's child, in a process group of its own, always ended when the browser goes."""

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        environment = self._build_environment(width=width, height=height)
        self._process = process = await asyncio.create_subprocess_shell(
            self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=environment, start_new_session=True,
            preexec_fn=_die_with_server)
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    @property
    def pid(self) -> int | None:
        """The child's process (and group) id, once started."""
        return self._process.pid if self._process is not None else None

    async def end(self) -> None:
        """Ask the app to quit; then SIGTERM and SIGKILL its process group while anything of it
        remains (the group, not the first process: whatever it started goes too).  Even when
        this is cancelled (a server shutting down), the group is killed on the way out."""
        process = self._process
        try:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.stop(), QUIT_GRACE)
            if process is not None and children.alive(process.pid, group=True):
                _signal_group(process.pid, signal.SIGTERM)
                deadline = time.monotonic() + QUIT_GRACE
                while children.alive(process.pid, group=True) and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
            if process is not None:
                _signal_group(process.pid, signal.SIGKILL)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(process.wait(), 2.0)  # reaped: its lab is stale now
            remove_stale_dirs()  # a lab whose app had to be killed leaves no directory
        finally:
            if process is not None:
                _signal_group(process.pid, signal.SIGKILL)  # no await: runs even when cancelled


def _die_with_server() -> None:  # runs in the child, between fork and exec
    """The child is killed if the server dies, however it dies (parent-death signal)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class GuardedServer(Server):
    """textual-serve's server behind a token, an Origin check and a cap on sessions."""

    def __init__(self, command: str, host: str, port: int, *, token: str, max_sessions: int,
                 public_url: str | None = None):
        super().__init__(command, host=host, port=port, title="qmigtui", public_url=public_url)
        self.token = token
        self.max_sessions = max_sessions
        self.given_url = public_url
        self.sessions = 0
        self.services: set[SessionService] = set()  # each browser's child, for a shutdown

    def base_url(self, request: web.Request) -> str:
        """The URL browsers reach us at: the one given, else the one this request came to."""
        return (self.given_url or f"{request.scheme}://{request.host}").rstrip("/")

    async def _make_app(self) -> web.Application:
        """textual-serve's routes, but the websocket's token in its path and static files
        served without directory listings."""
        app = web.Application(middlewares=[self._guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws/{token}", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, show_index=False, name="static"),
        ])
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)  # the page's scripts and styles: nothing to guard
        websocket = request.path.startswith("/ws/")
        given = request.path[len("/ws/"):] if websocket else request.query.get("token", "")
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            raise web.HTTPForbidden(text="qmigtui serve: open the URL with the token it printed\n")
        if websocket:
            origin = request.headers.get("Origin")
            if origin is not None and _origin(origin) != _origin(self.base_url(request)):
                raise web.HTTPForbidden(text="qmigtui serve: a page from another origin\n")
            if self.sessions >= self.max_sessions:
                raise web.HTTPServiceUnavailable(
                    text=f"qmigtui serve: {self.max_sessions} sessions already\n")
        return await handler(request)

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        """The page, with URLs that work from wherever the browser reached us, the token in
        its websocket URL."""
        base = self.base_url(request)
        ws = ("wss:" if base.startswith("https:") else "ws:") + base.split(":", 1)[1]
        return {"font_size": to_int(request.query.get("fontsize", "16"), 16),
                "app_websocket_url": f"{ws}/ws/{self.token}",
                "config": {"static": {"url": f"{base}/static/"}},
                "application": {"name": self.title}}

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        """One browser: its own child, ended (and counted out) whatever way the browser goes.
        A request that is no websocket upgrade is answered 400."""
        websocket = web.WebSocketResponse(heartbeat=15)
        if not websocket.can_prepare(request).ok:
            return web.Response(status=400, text="qmigtui serve: this address takes a websocket only\n")
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        self.sessions += 1
        service: SessionService | None = None
        try:
            await websocket.prepare(request)
            log(f"session {self.sessions}: websocket upgraded ({width}x{height})")

            async def close() -> None:
                await websocket.close()
            service = SessionService(self.command, write_bytes=websocket.send_bytes,
                                     write_str=websocket.send_str, close=close,
                                     download_manager=self.download_manager, debug=self.debug)
            self.services.add(service)
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except (asyncio.CancelledError, ConnectionError, ValueError):
            pass
        finally:
            self.sessions -= 1
            if service is not None:
                await asyncio.shield(service.end())  # a cancelled handler still ends its child
                self.services.discard(service)
            await websocket.close()
        return websocket

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve's banner is left out: qmigtui printed its own line."""

    async def on_shutdown(self, app: web.Application) -> None:
        """The server stops: every session's child goes with it, lab QEMUs included, quickly
        (SIGTERM, at most SHUTDOWN_GRACE seconds, then SIGKILL)."""
        groups = [s.pid for s in self.services if s.pid is not None]
        for pgid in groups:
            _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + SHUTDOWN_GRACE
        while any(children.alive(g, group=True) for g in groups) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        for pgid in groups:
            _signal_group(pgid, signal.SIGKILL)
        remove_stale_dirs()


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def check_address(host: str, port: int) -> None:
    """Raise ServeError (one line) when ``host:port`` cannot be listened on."""
    if not 0 < port < 65536:
        raise ServeError(f"--port {port}: out of range 1-65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as e:
        raise ServeError(f"--host {host}: not an address here ({e})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            raise ServeError(f"{host}:{port}: cannot listen there ({e.strerror or e})") from None


def serve(command: str, host: str, port: int, *, max_sessions: int, public_url: str | None,
          token: str | None = None, announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted; ``announce`` gets the URL to open (with its token)."""
    check_address(host, port)
    token = token or secrets.token_urlsafe(24)
    server = GuardedServer(command, host, port, token=token, max_sessions=max_sessions,
                           public_url=public_url)
    shown = public_url or f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}"
    announce(f"{shown.rstrip('/')}/?token={token}")
    server.serve()
