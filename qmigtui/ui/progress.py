"""Progress that never runs backwards, and says what it is progress of."""

from __future__ import annotations

from dataclasses import dataclass

from qmigtui.model.members import remaining as left_to_send
from qmigtui.model.records import InfoRecord
from qmigtui.model.states import IN_POSTCOPY


@dataclass(frozen=True)
class Progress:
    """What the bar shows: its share, and the words beside it."""

    share: float
    label: str


@dataclass
class ProgressTracker:
    """The first pass: the share of guest RAM sent once.  A later pass: the share of what that
    pass started with that is sent (precopy resends dirtied pages, so ``1 - remaining/total``
    falls back; this does not).  Postcopy: the share of what was left at the switch.  Each is
    held at its maximum until the next pass (or migration) begins."""

    best: float = 0.0
    phase: tuple[str, int] = ("", 0)
    start_remaining: float = 0.0

    def update(self, info: InfoRecord | None) -> Progress:
        if info is None or info.child("ram") is None:
            return Progress(self.best, "")
        total, remaining = info.number("ram.total") or 0, left_to_send(info)
        status = info.text("status") or "none"
        sync = int(info.number("ram.dirty-sync-count") or 1)
        if status in ("setup", "none"):
            self.best, self.phase = 0.0, ("", 0)
        if not total or remaining is None:
            return Progress(self.best, "")
        if status == "completed":
            return Progress(1.0, "done")
        if status in ("cancelled", "failed"):
            return Progress(self.best, "stopped")
        phase = ("postcopy", 0) if status in IN_POSTCOPY else ("precopy", max(sync, 1))
        if phase != self.phase:  # a new pass (or the switch to postcopy): measured afresh
            self.phase, self.best, self.start_remaining = phase, 0.0, float(remaining)
        if phase[0] == "postcopy":
            share = 1.0 - remaining / self.start_remaining if self.start_remaining else 1.0
            words = "postcopy"
        elif phase[1] <= 1:
            share = 1.0 - remaining / total
            words = "first pass"
        else:
            share = 1.0 - remaining / self.start_remaining if self.start_remaining else 1.0
            words = f"pass {phase[1]}"
        self.best = max(self.best, min(max(share, 0.0), 1.0))
        return Progress(self.best, words)
