"""Which migration states allow what: one list per question, every QEMU state in it (7.2
through 11.1), and what each state means."""

from __future__ import annotations

TERMINAL = ("none", "completed", "failed", "cancelled")  # no migration runs; a new one may start
RECOVERING = ("postcopy-recover-setup", "postcopy-recover")  # QEMU 9.1+ has the first
IN_POSTCOPY = ("postcopy-active", "postcopy-paused", *RECOVERING)  # the guest runs on the destination
PAUSABLE = ("postcopy-active", "postcopy-recover")  # where QEMU takes migrate-pause
CONTINUABLE = ("pre-switchover", "device")
# migrate_cancel is never offered once postcopy started: the guest's newest state is on the
# destination, so the source cannot simply go on.  QEMU 10.0 refuses it there itself
# ("migration: Reject qmp_migrate_cancel after postcopy", QEMU commit of February 2025);
# older QEMUs took it and left the guest on neither side. postcopy-device (10.2) is the
# switch to postcopy under way: not offered either.
CANCELLABLE = ("setup", "active", "pre-switchover", "device", "wait-unplug")
FAILING = ("failing",)  # QEMU 11.0+: a failure under way; "failed" follows
# every state in which a migration is under way (whatever it waits for)
RUNNING = ("setup", "active", "pre-switchover", "device", "postcopy-device", "postcopy-active",
           "postcopy-recover", "postcopy-recover-setup", "wait-unplug", "cancelling",
           "postcopy-paused", "failing", "colo")

MEANING: dict[str, str] = {
    "none": "No migration has run on this side.",
    "setup": "Setting up: connections, capabilities, dirty logging.",
    "cancelling": "A cancel was asked for; QEMU is winding the migration down.",
    "cancelled": "Cancelled: the guest runs on the source.",
    "active": "Precopy: RAM is copied while the guest runs on the source.",
    "postcopy-device": "Switching to postcopy: device state is sent; a failure here resumes "
                       "the source (QEMU 10.2+).",
    "postcopy-active": "Postcopy: the guest runs on the destination, pages follow on demand.",
    "postcopy-paused": "Postcopy paused: the link broke or was paused; the guest waits for "
                       "pages on the destination until a recovery.",
    "postcopy-recover-setup": "Recovery being set up after a postcopy pause (QEMU 9.1+).",
    "postcopy-recover": "Recovering a paused postcopy: the two sides resync the pages sent.",
    "completed": "Completed: the guest runs on the destination.",
    "failing": "Failing: an error stopped the migration and QEMU is cleaning up; "
               "'failed' follows (QEMU 11.0+).",
    "failed": "Failed: see the error; in precopy the guest runs on the source.",
    "colo": "COLO fault tolerance: the two sides run in lock-step.",
    "pre-switchover": "Stopped before switchover (pause-before-switchover): migrate-continue "
                      "goes on.",
    "device": "Switchover: the guest is stopped and its device state is sent.",
    "wait-unplug": "Waiting for the guest to unplug its failover network card.",
}


ENDED = ("completed", "failed", "cancelled")  # a migration that ran and is over


class Status(str):
    """A migration status as QEMU names it, with the classes the project asks about; a status
    of a future QEMU still fits (it is under way, and of no class it cannot be known to be in)."""

    __slots__ = ()

    @property
    def idle(self) -> bool:
        """No migration runs: a new one may start."""
        return self in TERMINAL

    @property
    def ended(self) -> bool:
        return self in ENDED

    @property
    def failed(self) -> bool:
        """Failed, or failing (QEMU 11.0+: a failure under way)."""
        return self == "failed" or self in FAILING

    @property
    def postcopy(self) -> bool:
        """The guest runs on the destination (postcopy, paused or recovering)."""
        return self in IN_POSTCOPY

    @property
    def paused(self) -> bool:
        return self == "postcopy-paused"

    @property
    def recovering(self) -> bool:
        return self in RECOVERING

    @property
    def cancellable(self) -> bool:
        return self in CANCELLABLE

    @property
    def pausable(self) -> bool:
        return self in PAUSABLE

    @property
    def continuable(self) -> bool:
        return self in CONTINUABLE

    @property
    def running(self) -> bool:
        """A migration is under way (a status no table knows counts as one)."""
        return self in RUNNING or (self not in TERMINAL and self not in MEANING)

    @property
    def meaning(self) -> str:
        return MEANING.get(self, "A state this version of qmigtui does not know (newer QEMU).")


def paused_on_purpose(error_desc: str) -> bool:
    """Whether a postcopy-paused side's error-desc says an operator paused it (migrate-pause):
    QEMU 10 gives the source this text; it is not a failure."""
    return "paused by the user" in error_desc
