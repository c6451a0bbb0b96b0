"""A progress figure that never runs backwards, and what it is based on."""

from __future__ import annotations

from dataclasses import dataclass

from qmigtui.model.records import Record


@dataclass
class ProgressTracker:
    """Share of guest RAM sent at least once, held at its maximum for one migration.

    Precopy resends dirtied pages, so ``1 - remaining/total`` can fall; the
    share sent once cannot. After the first pass it is 100 % and the pass
    number and what is left tell the rest.
    """

    best: float = 0.0

    def update(self, info: Record | None) -> float:
        if info is None or info.child("ram") is None:
            return self.best
        total, remaining = info.number("ram.total") or 0, info.number("ram.remaining")
        status = info.text("status")
        if status in ("setup", "none"):
            self.best = 0.0
        if not total or remaining is None:
            return self.best
        if status == "completed" or (info.number("ram.dirty-sync-count") or 0) > 1:
            share = 1.0  # the first pass is over: every page went at least once
        else:
            share = 1.0 - remaining / total
        self.best = max(self.best, min(max(share, 0.0), 1.0))
        return self.best
