"""May I?  Which actions the state allows, as pure rules over a Snapshot: one place, one
wording, tested without I/O.  Every action also re-checks QEMU just before sending."""

from __future__ import annotations

from dataclasses import dataclass

from qmigtui.model.states import TERMINAL, Status
from qmigtui.watch.snapshot import Snapshot

READ_ONLY = "read-only mode: nothing is sent"
CHANGE = "change"  # a capability, a parameter, a dirty limit: a change that is not a migration step
STARTABLE = TERMINAL  # a new migration may start from these
ACTIONS = ("migrate", "cancel", "postcopy", "pause", "recover", "continue", CHANGE)


@dataclass(frozen=True)
class Permission:
    """Whether an action is allowed now, and if not, why."""

    ok: bool
    why: str = ""


def permission(action: str, snap: Snapshot) -> Permission:
    """Whether ``action`` is allowed in ``snap``; the reason when it is not."""
    if snap.read_only:
        return Permission(False, READ_ONLY)
    if action == CHANGE:
        return Permission(True)
    source, dest = snap.source, snap.destination
    src = source.status
    dst = dest.status if dest is not None else Status("none")
    if not source.connected and action != "recover":
        return Permission(False, f"source is {source.connection}")
    rules = {
        "migrate": (src.idle, f"a migration is already {src}"),
        "cancel": (src.cancellable,
                   f"a postcopy cannot be cancelled (source is {src}): recover it, or let it finish"
                   if src.postcopy else f"nothing to cancel (source is {src})"),
        "postcopy": (src == "active", f"postcopy can start only from active (source is {src})"),
        "pause": (src.pausable or dst.pausable, f"pause works in postcopy-active (source is {src})"),
        "recover": (src.paused or dst.paused, f"nothing to recover (source is {src})"),
        "continue": (src.continuable, f"continue works in pre-switchover (source is {src})"),
    }
    ok, why = rules.get(action, (True, ""))
    caps = source.capabilities  # none at all: libvirt without its monitor, which answers
    if action == "postcopy" and ok and caps and not caps.get("postcopy-ram"):
        return Permission(False, "postcopy-ram was not on when the migration started")
    return Permission(ok, "" if ok else why)
