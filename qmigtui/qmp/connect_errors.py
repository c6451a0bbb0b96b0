"""What went wrong reaching a QMP monitor, in one line each: a missing or refused socket, a
silent peer, a refused handshake, a dropped link."""

from __future__ import annotations

import asyncio
import socket

from qemu.qmp.message import Message

from qmigtui.model.text import clean
from qmigtui.qmp.endpoint import Endpoint
from qmigtui.qmp.errors import Unreachable
from qmigtui.qmp.holder import monitor_holders

OVERSIZE = "oversize"  # a drop's cause: a message over the read limit


SECOND_MONITOR_HINT = (
    "another client (libvirt, say) may hold this monitor; give QEMU a second one with "
    "-qmp unix:/run/qmigtui.sock,server=on,wait=off"
)


def silent(ep: Endpoint, waited: float) -> str:
    """Connected, and no greeting: on a unix socket QEMU's one client is taken (named when it
    can be found); over TCP whatever accepted may be a forwarder with no QEMU behind it."""
    if ep.kind == "unix":
        holders = monitor_holders(ep.path)
        who = f"{', '.join(holders)} holds" if holders else "another client (libvirt, say) may hold"
        return (f"{ep}: no QMP greeting within {waited:g} s; {who} this monitor; give QEMU a "
                "second one with -qmp unix:/run/qmigtui.sock,server=on,wait=off")
    return (f"{ep}: the connection was taken but no QMP greeting came within {waited:g} s: not "
            "a QEMU monitor there (a proxy or forwarder with nothing behind it?), or its one "
            "client is already connected")


def answer(msg: Message | None) -> str:
    """QEMU's own words for a failed handshake: its error's desc, else what it sent."""
    if msg is None:
        return "no answer"
    error = msg.get("error")
    if isinstance(error, dict) and error.get("desc"):
        return clean(str(error["desc"]), 200)
    return clean(str(dict(msg)), 200)


def describe_connect_error(ep: Endpoint, exc: BaseException) -> tuple[str, Unreachable]:
    if isinstance(exc, FileNotFoundError):
        return f"{ep}: no such socket", Unreachable.MISSING
    if isinstance(exc, PermissionError):
        return (f"{ep}: permission denied (run as the user QEMU runs as, or as root)",
                Unreachable.PERMISSION)
    if isinstance(exc, ConnectionRefusedError):
        return f"{ep}: connection refused (is QEMU running with this -qmp?)", Unreachable.REFUSED
    if isinstance(exc, socket.gaierror):
        return f"{ep}: no such host ({clean(exc.strerror or str(exc), 200)})", Unreachable.OTHER
    if isinstance(exc, OSError):
        return f"{ep}: {clean(exc.strerror or str(exc), 200)}", Unreachable.OTHER
    if isinstance(exc, EOFError) and ep.kind == "ssh":
        return (f"{ep}: closed before a QMP greeting: the remote socket is missing, not QEMU's, "
                "or held by another client", Unreachable.NOT_QMP)
    if isinstance(exc, EOFError):
        return (f"{ep}: closed before a QMP greeting; not a QMP monitor, or {SECOND_MONITOR_HINT}",
                Unreachable.NOT_QMP)
    return f"{ep}: not a QMP monitor ({clean(str(exc) or type(exc).__name__, 200)})", Unreachable.NOT_QMP


def describe_drop(exc: BaseException) -> str:
    if isinstance(exc, asyncio.LimitOverrunError) or "exceed the limit" in str(exc):
        return OVERSIZE
    if isinstance(exc, EOFError):
        return "QEMU closed the connection"
    if isinstance(exc, OSError):
        return f"connection lost: {clean(exc.strerror or str(exc), 200)}"
    return f"protocol error: {clean(str(exc) or type(exc).__name__, 200)}"
