"""CheckPoint and Restart: the migration modes that move a guest to a new QEMU on the same
host, and the commands that start each one.

- ``normal``: a live migration to another QEMU (the default).
- ``cpr-reboot``: the state goes to a file (or a command); a QEMU started later reads it.
- ``cpr-transfer`` (QEMU 10.0+): a new QEMU, started with two ``-incoming`` (the main
  channel and a ``cpr`` channel on a unix socket), takes the guest's memory in place; the
  migrate command names both channels.  The new QEMU opens its monitor only once the cpr
  channel is read, so nothing is sent to it before the migrate.
- ``cpr-exec`` (QEMU 11.0+): the source QEMU saves its state to the URI and execs
  ``cpr-exec-command`` (a new QEMU whose arguments include ``-incoming``), keeping its PID.

Which modes a QEMU offers comes from its schema (the ``MigMode`` enum of the ``mode``
parameter).  Pure: no I/O.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any

NORMAL = "normal"
TRANSFER = "cpr-transfer"
EXEC = "cpr-exec"
REBOOT = "cpr-reboot"

MEANING = {
    NORMAL: "live migration to another QEMU",
    REBOOT: "save the state to a file (or command); a QEMU started later reads it",
    TRANSFER: "hand the guest to a new QEMU on this host, memory kept in place (needs a cpr "
              "channel: a unix socket the new QEMU was started with)",
    EXEC: "the source QEMU saves its state and execs a new QEMU in its place (same PID)",
}


class CprError(ValueError):
    """A start request that cannot be sent as it stands; the message says why in one line."""


@dataclass(frozen=True)
class StartRequest:
    """What the operator asked for: the mode, the main URI, and what the mode needs besides."""

    uri: str
    mode: str = NORMAL
    cpr_channel: str = ""  # cpr-transfer: unix:/path
    exec_command: str = ""  # cpr-exec: the new QEMU's command line, as a shell would split it


def address(uri: str) -> dict[str, Any]:
    """A migration URI as a MigrationAddress (the ``addr`` of a migrate channel)."""
    if uri.startswith("tcp:"):
        m = re.fullmatch(r"tcp:(\[[^\]]*\]|[^:]*):(\d+)", uri)
        if m is None:
            raise CprError(f"{uri}: not tcp:HOST:PORT")
        return {"transport": "socket", "type": "inet", "host": m.group(1).strip("[]"),
                "port": m.group(2)}
    if uri.startswith("unix:") and len(uri) > 5:
        return {"transport": "socket", "type": "unix", "path": uri[5:]}
    if uri.startswith("vsock:"):
        cid, _, port = uri[6:].partition(":")
        return {"transport": "socket", "type": "vsock", "cid": cid, "port": port}
    if uri.startswith("file:") and len(uri) > 5:
        path, _, offset = uri[5:].partition(",offset=")
        if offset and not offset.isdigit():
            raise CprError(f"{uri}: the offset is not a number")
        return {"transport": "file", "filename": path, "offset": int(offset or "0")}
    if uri.startswith("exec:") and len(uri) > 5:
        return {"transport": "exec", "args": ["/bin/sh", "-c", uri[5:]]}
    raise CprError(f"{uri}: not an address a migrate channel takes (tcp:, unix:, vsock:, file:, exec:)")


def exec_argv(command: str) -> list[str]:
    """``cpr-exec-command`` from a command line typed as a shell would split it."""
    try:
        argv = shlex.split(command)
    except ValueError as err:
        raise CprError(f"the new QEMU's command line: {err}") from None
    if not argv:
        raise CprError("cpr-exec needs the new QEMU's command line")
    if "-incoming" not in argv:
        raise CprError("the new QEMU's command line needs -incoming (the URI it reads from, or defer)")
    return argv


def check(request: StartRequest, modes: tuple[str, ...]) -> None:
    """Raise CprError where ``request`` cannot be sent to a QEMU offering ``modes``."""
    if request.mode != NORMAL and request.mode not in modes:
        raise CprError(f"this QEMU has no migration mode {request.mode} "
                       f"(it offers {', '.join(modes) or 'none'})")
    if request.mode == TRANSFER:
        if not request.cpr_channel.startswith("unix:") or len(request.cpr_channel) <= 5:
            raise CprError("cpr-transfer needs the cpr channel as unix:/path (it passes file "
                           "descriptors, so only a unix socket will do)")
        if request.uri.startswith("file:"):
            raise CprError("cpr-transfer's main channel cannot be a file")
        if re.fullmatch(r"tcp:.*:0", request.uri):
            raise CprError("cpr-transfer's main channel needs a real port, not 0")
        address(request.uri)
    if request.mode == EXEC:
        exec_argv(request.exec_command)
    if request.mode in (EXEC, REBOOT) and request.uri.startswith(("tcp:", "unix:", "vsock:", "rdma:")):
        raise CprError(f"{request.mode} writes the state while no QEMU reads it: use file:/path "
                       "(or exec:)")


def steps(request: StartRequest, current_mode: str | None) -> list[tuple[str, dict[str, Any]]]:
    """The commands to send to the source, in order: the mode (where it changes) and what the
    mode needs, then the migrate."""
    out: list[tuple[str, dict[str, Any]]] = []
    params: dict[str, Any] = {}
    if current_mode is not None and request.mode != current_mode:
        params["mode"] = request.mode
    if request.mode == EXEC:
        params["cpr-exec-command"] = exec_argv(request.exec_command)
    if params:
        out.append(("migrate-set-parameters", params))
    if request.mode == TRANSFER:
        out.append(("migrate", {"channels": [
            {"channel-type": "main", "addr": address(request.uri)},
            {"channel-type": "cpr", "addr": address(request.cpr_channel)}]}))
    else:
        out.append(("migrate", {"uri": request.uri}))
    return out


def incoming_options(request: StartRequest) -> list[str]:
    """The two ``-incoming`` options a new QEMU for cpr-transfer is started with."""
    cpr = json.dumps({"channel-type": "cpr", "addr": address(request.cpr_channel)})
    return ["-incoming", request.uri, "-incoming", cpr]
