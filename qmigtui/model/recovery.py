"""Recovering a paused postcopy: real addresses for both steps, checked, in every form the
operator may need to type them on a side qmigtui is not connected to.

The destination listens again (``migrate-recover URI``); the source then connects to it
(``migrate`` with ``resume``).  Nothing here guesses a host: an address comes from QEMU
(the destination's ``socket-address``), from the URI the source was started with, or from
the operator.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass

from qmigtui.model.records import AddressRecord

PLACEHOLDERS = ("DEST-HOST", "HOST", "PORT")
WILDCARDS = ("0.0.0.0", "::", "[::]", "")


@dataclass(frozen=True)
class RecoveryAddresses:
    """Where the destination listens again, and where the source connects to (either may be
    unknown: the operator types it)."""

    listen: str = ""
    connect: str = ""


def address_uri(address: AddressRecord) -> str | None:
    """A SocketAddress from query-migrate as a migration URI (tcp:HOST:PORT, unix:PATH, …)."""
    kind = address.text("type")
    if kind == "inet":
        host, port = address.text("host"), address.text("port")
        if not host or not port:
            return None
        return f"tcp:[{host}]:{port}" if ":" in host else f"tcp:{host}:{port}"
    if kind == "unix" and address.text("path"):
        return f"unix:{address.text('path')}"
    if kind == "vsock" and address.text("cid") and address.text("port"):
        return f"vsock:{address.text('cid')}:{address.text('port')}"
    return None


def _split_tcp(uri: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"tcp:(\[[^\]]*\]|[^:]*):(.*)", uri)
    return (m.group(1), m.group(2)) if m else None


def suggest(destination_addresses: list[AddressRecord], source_uri: str | None) -> RecoveryAddresses:
    """Prefill both steps from what is known: the destination's listening address (as QEMU
    reports it) and the URI the source was started with."""
    listen = next((u for u in map(address_uri, destination_addresses) if u), None)
    connect = source_uri if source_uri and not problems(source_uri, connecting=True) else None
    if listen is None and connect is not None:
        listen = connect  # the destination listens again where the source reached it
    if connect is None and listen is not None:
        tcp = _split_tcp(listen)
        if tcp is None or tcp[0] not in WILDCARDS:
            connect = listen  # a specific host (or a unix socket) is reachable as it is
    return RecoveryAddresses(listen or "", connect or "")


MIGRATE_PORT = 4444  # the port the start dialog suggests


def start_uri(destination_host: str | None) -> str:
    """The URI the start dialog prefills: the destination's own host where it is known (the
    host its monitor is reached at, or this host when both monitors are local), else nothing:
    the operator types it (a placeholder would be sent as it stands)."""
    if not destination_host or destination_host in WILDCARDS:
        return ""
    host = f"[{destination_host}]" if ":" in destination_host else destination_host
    return f"tcp:{host}:{MIGRATE_PORT}"


def problems(uri: str, connecting: bool) -> list[str]:
    """What keeps ``uri`` from being sent (empty: it may be sent)."""
    uri = uri.strip()
    if not uri:
        return ["an address is needed"]
    if any(p in uri for p in PLACEHOLDERS):
        return [f"{uri}: replace the placeholder with a real address"]
    scheme = uri.split(":", 1)[0]
    if scheme not in ("tcp", "unix", "vsock", "rdma", "fd", "file", "exec"):
        return [f"{uri}: unknown transport {scheme!r} (tcp:HOST:PORT, unix:PATH, …)"]
    tcp = _split_tcp(uri) if scheme == "tcp" else None
    if scheme == "tcp":
        if tcp is None or not tcp[1].isdigit() or not 0 < int(tcp[1]) < 65536:
            return [f"{uri}: a port from 1 to 65535 is needed (tcp:HOST:PORT)"]
        if connecting and tcp[0] in WILDCARDS:
            return [f"{uri}: the source needs the destination's own address, not {tcp[0] or 'none'}"]
    return []


def qmp_steps(addresses: RecoveryAddresses) -> dict[str, str]:
    """The two commands in QMP, by side."""
    return {
        "destination": json.dumps({"execute": "migrate-recover",
                                   "arguments": {"uri": addresses.listen}}),
        "source": json.dumps({"execute": "migrate",
                              "arguments": {"uri": addresses.connect, "resume": True}}),
    }


def steps_for(side: str, addresses: RecoveryAddresses) -> list[str]:
    """One side's step in the three forms an operator may use where qmigtui is not connected:
    QMP, HMP, and through libvirt (``virsh qemu-monitor-command``)."""
    qmp = qmp_steps(addresses)[side]
    hmp = (f"migrate_recover {addresses.listen}" if side == "destination"
           else f"migrate -r {addresses.connect}")
    return [f"QMP:   {qmp}",
            f"HMP:   {hmp}",
            f"virsh: virsh qemu-monitor-command DOMAIN {shlex.quote(qmp)}"]
