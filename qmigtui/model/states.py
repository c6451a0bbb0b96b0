"""Which migration states allow what: one list per question, every QEMU state in it."""

from __future__ import annotations

TERMINAL = ("none", "completed", "failed", "cancelled")  # no migration runs; a new one may start
RECOVERING = ("postcopy-recover-setup", "postcopy-recover")  # QEMU 9.1+ has the first
IN_POSTCOPY = ("postcopy-active", "postcopy-paused", *RECOVERING)  # the guest runs on the destination
PAUSABLE = ("postcopy-active", "postcopy-recover")  # where QEMU takes migrate-pause
CONTINUABLE = ("pre-switchover", "device")
# migrate_cancel is never offered once postcopy started: the guest's newest state is on the
# destination, so the source cannot simply go on.  QEMU 10.0 refuses it there itself
# ("migration: Reject qmp_migrate_cancel after postcopy", QEMU commit of February 2025);
# older QEMUs took it and left the guest on neither side.
CANCELLABLE = ("setup", "active", "pre-switchover", "device", "wait-unplug")


def paused_on_purpose(error_desc: str) -> bool:
    """Whether a postcopy-paused side's error-desc says an operator paused it (migrate-pause):
    QEMU 10 gives the source this text; it is not a failure."""
    return "paused by the user" in error_desc
