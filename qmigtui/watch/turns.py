"""Where one migration ends and the next begins, and how long a pause stays the operator's:
read from the answers the watcher takes, with no I/O."""

from __future__ import annotations

from qmigtui.analysis.history import History
from qmigtui.model.records import InfoRecord
from qmigtui.model.states import RECOVERING, TERMINAL


def new_migration(history: History, info: InfoRecord) -> bool:
    """Whether an answer after an ended (or not yet begun) state starts another migration: it
    is in setup, or its counters started again.  A destination that reported none in the
    middle of its incoming migration, with the counters going on, keeps its history."""
    if not len(history):
        return False
    if info.text("status") == "setup":
        return True
    sent = info.number("ram.transferred")
    return sent is None or sent < history.latest("transferred")


def pause_still_asked(asked: bool, status: str | None) -> bool:
    """A migrate-pause stays the reason of a pause until a recovery starts or the migration
    ends (a poll just after the command may still say postcopy-active)."""
    return asked and status not in (*RECOVERING, *TERMINAL)
