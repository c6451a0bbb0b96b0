"""Pane 5: every QMP event from each side, QEMU's timestamp, filterable, steady scroll; and
between them, by time, what the autopilot did and why (qmigtui's own lines, marked as such)."""

from __future__ import annotations

import itertools
import math
import time
from collections import deque

from rich.text import Text
from textual.widgets import RichLog

from qmigtui.model.text import clean
from qmigtui.ui.pane import Pane, PaneSpec
from qmigtui.watch.snapshot import EventLine, Snapshot

MIGRATION_EVENTS = ("MIGRATION", "MIGRATION_PASS", "UNPLUG_PRIMARY", "COLO_EXIT", "STOP", "RESUME")
NOTES = 500  # qmigtui's own lines kept for a new filter


def _stamp(when: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(when)) + f".{int(when * 1000) % 1000:03d}"


def format_event(e: EventLine) -> Text:
    when = e.qemu_time if not math.isnan(e.qemu_time) else time.time()
    data = " ".join(f"{k}={clean(str(v), 80)}" for k, v in e.data.items())
    style = "bold" if e.name in MIGRATION_EVENTS else "dim"
    return Text.assemble((_stamp(when), "dim"), " ", (f"{e.side[:4]:<4}", "italic"), " ",
                         (clean(e.name, 64), style), " ", data)


def format_note(when: float, text: str) -> Text:
    """A line of qmigtui's own (the autopilot's), told apart from QEMU's events."""
    return Text.assemble((_stamp(when), "dim"), " ", ("ours", "italic"), " ", clean(text, 300))


class EventsPane(Pane, RichLog):
    """Events as they arrive; only scrolls to the end when the reader is already there."""

    SPEC = PaneSpec("events", "Events", "5", bottom=True)

    def __init__(self, **kw: object) -> None:
        super().__init__(wrap=False, markup=False, max_lines=2000, **kw)  # type: ignore[arg-type]
        self.filter = ""
        self._written = 0  # highest event seq written
        self._events: tuple[EventLine, ...] = ()
        self._notes: deque[tuple[float, str]] = deque(maxlen=NOTES)

    def show(self, snap: Snapshot) -> None:
        self._events = snap.events
        fresh = list(itertools.takewhile(lambda e: e.seq > self._written, reversed(snap.events)))
        fresh.reverse()
        at_end = self.scroll_y >= self.max_scroll_y - 1
        for e in fresh:
            if self._matches(e):
                self.write(format_event(e), scroll_end=at_end)
        if fresh:
            self._written = fresh[-1].seq

    def note(self, text: str) -> None:
        """Add a line of qmigtui's own now (an act of the autopilot and why)."""
        when = time.time()
        self._notes.append((when, text))
        if self._matches_text(text):
            self.write(format_note(when, text), scroll_end=self.scroll_y >= self.max_scroll_y - 1)

    def _matches(self, e: EventLine) -> bool:
        if not self.filter:
            return True
        needle = self.filter.lower()
        return needle in e.name.lower() or needle in e.side or needle in str(e.data).lower()

    def _matches_text(self, text: str) -> bool:
        return not self.filter or self.filter.lower() in text.lower()

    def set_filter(self, text: str) -> None:
        self.filter = text.strip()
        self.clear()
        lines = [(e.qemu_time if not math.isnan(e.qemu_time) else 0.0, format_event(e))
                 for e in self._events if self._matches(e)]
        lines += [(when, format_note(when, t)) for when, t in self._notes if self._matches_text(t)]
        for _, line in sorted(lines, key=lambda item: item[0]):
            self.write(line, scroll_end=True)
        self.border_subtitle = f"filter: {self.filter}" if self.filter else ""
