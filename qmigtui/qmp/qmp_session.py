"""QMP on a socket to one QEMU: commands with timeouts, events, reconnect, read-only.

Built on ``qemu.qmp.QMPClient``. The session owns recovery: when the peer goes
away or sends something malformed, qemu.qmp drops the link and refuses every
call until ``disconnect()``; the session does that, keeps the reason, and
reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
import struct
import time
from collections.abc import Callable
from typing import Any

from qemu.qmp import ConnectError, ExecInterruptedError, ExecuteError, QMPClient, StateError
from qemu.qmp.message import Message
from qemu.qmp.protocol import Runstate
from qemu.qmp.qmp_client import GreetingError, NegotiationError

from qmigtui.model.text import clean_json
from qmigtui.qmp.connect_errors import (
    OVERSIZE,
    answer,
    describe_connect_error,
    describe_drop,
    silent,
)
from qmigtui.qmp.endpoint import Endpoint
from qmigtui.qmp.errors import (
    AnswerTooLarge,
    CommandRejected,
    CommandTimeout,
    EndpointError,
    NotConnected,
    Unreachable,
)
from qmigtui.qmp.hub import ConnState, Hub, stop_task, wall_now
from qmigtui.qmp.session import Traits
from qmigtui.qmp.ssh_forward import ForwardError, SshForward, describe

_qmp_log = logging.getLogger("qemu.qmp")
_qmp_log.addHandler(logging.NullHandler())
_qmp_log.propagate = False  # its warnings would scribble over the terminal UI

READ_LIMIT = 10 << 20  # qemu.qmp reads no message larger (its read buffer, as libvirt)
OVERSIZE_WAIT_S, OVERSIZE_MAX_S = 30.0, 600.0  # such a command is asked again after this, doubling

class _Client(QMPClient):
    """QMPClient with a tap on every message and a flag for 'transport is up'."""

    def __init__(self, name: str, tap: Callable[[str, Any], None]):
        super().__init__(name)
        self._tap = tap
        self.transport_up = False
        self.last_inbound: Message | None = None  # what the peer said last (the handshake's answer)

    async def _event_dispatch(self, msg: Any) -> None:
        """Events reach the session through the tap, into bounded queues, not qemu.qmp's own."""

    async def _establish_session(self) -> None:
        self.transport_up = True
        await super()._establish_session()

    def _cb_outbound(self, msg: Any) -> Any:
        self._tap("command", msg)
        return msg

    def _cb_inbound(self, msg: Any) -> Any:
        """Everything the peer sends is cleaned here, once, before anything else sees it."""
        msg = Message(clean_json(bytes(msg), dict(msg)), eager=False)  # never sent: not serialized
        self.last_inbound = msg
        kind = "event" if "event" in msg else "greeting" if "QMP" in msg else "response"
        self._tap(kind, msg)
        return msg


class QmpSession:
    """One QMP endpoint, kept connected (a Session)."""

    def __init__(
        self,
        endpoint: Endpoint,
        name: str = "source",
        *,
        read_only: bool = False,
        timeout: float = 5.0,
        greeting_timeout: float = 3.0,
        reconnect: bool = True,
        max_backoff: float = 5.0,
    ):
        self.endpoint = endpoint
        self.name = name
        self.hub = Hub(name, read_only=read_only)
        self.traits = Traits(str(endpoint), local=endpoint.is_loopback,
                             host=endpoint.host if endpoint.kind in ("tcp", "ssh") else None,
                             same_machine=endpoint.kind == "unix")
        self.timeout = timeout
        self.greeting_timeout = greeting_timeout
        self.reconnect = reconnect
        self.max_backoff = max_backoff
        self._client: _Client | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._forward: SshForward | None = None  # ssh:// endpoints: the OpenSSH forwarder
        self._too_large: dict[str, tuple[float, float]] = {}  # command -> (not before, wait)

    def raw_note(self, command: str, arguments: dict[str, Any] | None = None) -> str | None:
        return None

    def peer_pid(self) -> int | None:
        """The process id of the QEMU at the other end of a Unix socket (None when unknown)."""
        client = self._client
        writer = getattr(client, "_writer", None) if client is not None else None
        sock = writer.get_extra_info("socket") if writer is not None else None
        if sock is None or sock.family != socket.AF_UNIX:
            return None
        try:
            pid, _uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                                  struct.calcsize("3i")))
        except OSError:
            return None
        return pid or None

    def now(self) -> tuple[float, float]:
        return wall_now()

    def response_time(self) -> tuple[float, float]:
        return wall_now()

    # -- lifecycle -------------------------------------------------------

    async def connect(self) -> None:
        """First connection; raise EndpointError with a one-line reason when it fails."""
        self._closing = False
        self.hub.set_state(ConnState.CONNECTING, None)
        try:
            client = await self._open()
        except EndpointError as e:
            self.hub.set_state(ConnState.GONE, str(e))
            raise
        self._adopt(client)

    def drop(self) -> None:
        """Let go of the monitor at once, without the loop (a hang-up): the socket is closed
        and no reconnect follows, so QEMU's one monitor is free for the next client."""
        self._closing = True
        if self._client is not None:
            _abort(self._client)
        if self._forward is not None:
            self._forward.stop()

    async def close(self) -> None:
        """Disconnect and stop reconnecting."""
        self._closing = True
        await stop_task(self._supervisor)
        self._supervisor = None
        if self._client is not None:
            await self._discard(self._client)
            self._client = None
        if self._forward is not None:
            self._forward.stop()
            self._forward = None
        self.hub.set_state(ConnState.CLOSED, None)

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      timeout: float | None = None) -> Any:
        """Run one command and return QEMU's ``return`` value.

        Raises ReadOnlyRefused (nothing sent), NotConnected, CommandTimeout, or
        CommandRejected carrying QEMU's own ``desc``.
        """
        client = self._client
        self.hub.guard(command, arguments, connected=client is not None)
        assert client is not None
        if command in self._too_large and time.monotonic() < self._too_large[command][0]:
            raise AnswerTooLarge(self._oversize(command))
        limit = self.timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):  # no task of its own, as wait_for made, per command
                return await client.execute(command, arguments)
        except ExecuteError as e:
            raise CommandRejected(command, e.error_class, str(e)) from None
        except TimeoutError:
            raise CommandTimeout(f"{command}: no answer from {self.name} in {limit:g} s") from None
        except (ExecInterruptedError, StateError, ConnectionError, EOFError):
            raise NotConnected(f"{command}: lost the connection to {self.name}") from None

    # -- internals -------------------------------------------------------

    def _adopt(self, client: _Client) -> None:
        self._client = client
        self.hub.connected()
        self._supervisor = asyncio.create_task(self._supervise(client), name=f"qmp-{self.name}")

    async def _address(self) -> str | tuple[str, int]:
        """Where to connect: the endpoint's own address, or for ssh:// the local end of a
        forward (started, or started again when ssh went away)."""
        ep = self.endpoint
        if ep.kind != "ssh":
            return ep.address
        if self._forward is None or not self._forward.alive:
            self._forward = SshForward(ep.host, ep.path, ep.user, ep.port)
            try:
                return await self._forward.start(max(self.greeting_timeout, 1.0))
            except ForwardError as e:
                raise EndpointError(f"{ep}: {e}", Unreachable.OTHER) from None
        return self._forward.local

    async def _forward_said(self) -> str | None:
        """Why an ssh forward gave no greeting (the remote socket), once ssh said it (it
        writes that a moment after closing our end)."""
        for _ in range(20):
            said = describe(self._forward.errors(), "") if self._forward is not None else ""
            if said.startswith("the remote socket"):
                return said
            await asyncio.sleep(0.05)
        return None

    async def _open(self) -> _Client:
        """Connect once; a handshake that went wrong (a first message that is no greeting, or
        qmp_capabilities answered with something else than success: each seen about once in a
        thousand fresh lab QEMUs) is tried once more, then reported in QEMU's words."""
        try:
            return await self._open_once()
        except _HandshakeRefused:
            await asyncio.sleep(0.2)
        try:
            return await self._open_once()
        except _HandshakeRefused as e:
            raise EndpointError(str(e), Unreachable.NOT_QMP) from None

    async def _open_once(self) -> _Client:
        ep = self.endpoint
        if ep.kind == "unix":
            try:
                st = os.stat(ep.path)
            except FileNotFoundError:
                raise EndpointError(f"{ep}: no such socket", Unreachable.MISSING) from None
            except PermissionError:
                raise EndpointError(f"{ep}: permission denied (run as the user QEMU runs as, "
                                    "or as root)", Unreachable.PERMISSION) from None
            if not stat.S_ISSOCK(st.st_mode):
                raise EndpointError(f"{ep}: not a socket", Unreachable.NOT_A_SOCKET)
        address = await self._address()
        client = _Client(self.name, self.hub.deliver)
        try:
            await asyncio.wait_for(client.connect(address), self.greeting_timeout)
        except TimeoutError:
            await self._discard(client)
            if client.last_inbound is not None and "QMP" in client.last_inbound:
                raise EndpointError(
                    f"{ep}: QEMU sent its QMP greeting, then did not answer qmp_capabilities within "
                    f"{self.greeting_timeout:g} s (its monitor is stuck or the machine very busy)",
                    Unreachable.NO_ANSWER) from None
            if client.transport_up:
                raise EndpointError(silent(ep, self.greeting_timeout), Unreachable.SILENT) from None
            raise EndpointError(f"{ep}: no answer within {self.greeting_timeout:g} s (host down, "
                                "unreachable, or a firewall dropping the connection)",
                                Unreachable.NO_ANSWER) from None
        except ConnectError as e:
            await self._discard(client)
            if ep.kind == "ssh" and (said := await self._forward_said()) is not None:
                raise EndpointError(f"{ep}: {said}", Unreachable.MISSING) from None
            if isinstance(e.exc, NegotiationError):
                raise _HandshakeRefused(f"{ep}: QEMU refused the QMP handshake "
                                        f"({answer(client.last_inbound)})") from None
            if isinstance(e.exc, GreetingError):  # a first message that is no greeting
                raise _HandshakeRefused(describe_connect_error(ep, e.exc)[0]) from None
            raise EndpointError(*describe_connect_error(ep, e.exc)) from None
        except OSError as e:
            await self._discard(client)
            raise EndpointError(*describe_connect_error(ep, e)) from None
        return client

    async def _discard(self, client: _Client, grace: float = 2.0) -> str | None:
        """Disconnect a client; return the reason it had failed, if any.

        A QEMU that stopped reading its monitor (stopped, wedged) would hold
        qemu.qmp's final flush forever; after ``grace`` seconds the transport is
        aborted, so closing never hangs.
        """
        task = asyncio.ensure_future(client.disconnect())
        task.add_done_callback(_retrieved)  # read here, or never: not a stray traceback at exit
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            _abort(client)
            done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            task.cancel()
            return f"{self.name} did not let go of the connection"
        exc = task.exception()  # the root cause of a broken link comes back here
        return describe_drop(exc) if exc is not None else None

    async def _supervise(self, client: _Client) -> None:
        while client.runstate is Runstate.RUNNING:
            await client.runstate_changed()
        if self._closing:
            return
        reason = await self._discard(client) or f"{self.name} closed the connection"
        if reason == OVERSIZE:  # asked again only after a wait that doubles: no tight loop
            command = self.hub.last_command or "a command"
            wait = min(2 * self._too_large.get(command, (0.0, OVERSIZE_WAIT_S / 2))[1], OVERSIZE_MAX_S)
            self._too_large[command] = (time.monotonic() + wait, wait)
            reason = self._oversize(command)
        self._client = None
        if not self.reconnect:
            self.hub.set_state(ConnState.GONE, reason)
            return
        self.hub.set_state(ConnState.RECONNECTING, reason)
        delay = 0.2
        while not self._closing:
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)
            try:
                fresh = await self._open()
            except EndpointError as e:
                self.hub.set_state(ConnState.GONE if e.kind.nobody_there else ConnState.RECONNECTING,
                                str(e))
                continue
            self._adopt(fresh)
            return


    def _oversize(self, command: str) -> str:
        wait = self._too_large[command][1]
        return (f"{command}: QEMU's answer is larger than {READ_LIMIT >> 20} MiB, the most qmigtui "
                f"reads, and broke the connection; asked again after {wait:g} s")


class _HandshakeRefused(Exception):
    """The greeting or the answer to qmp_capabilities was not what QMP says it is."""


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Mark a finished task's exception as seen (asyncio prints unseen ones at exit)."""
    if not task.cancelled():
        task.exception()


def _abort(client: _Client) -> None:
    """Close a client's socket at once (qemu.qmp offers no public abort)."""
    writer = getattr(client, "_writer", None)
    if writer is not None:
        writer.transport.abort()


