"""Pane 5: every QMP event from each side, QEMU's timestamp, filterable, steady scroll."""

from __future__ import annotations

import itertools
import math
import time

from rich.text import Text
from textual.widgets import RichLog

from qmigtui.model.text import clean
from qmigtui.ui.pane import Pane, PaneSpec
from qmigtui.watch.snapshot import EventLine, Snapshot

MIGRATION_EVENTS = ("MIGRATION", "MIGRATION_PASS", "UNPLUG_PRIMARY", "COLO_EXIT", "STOP", "RESUME")


def format_event(e: EventLine) -> Text:
    when = e.qemu_time if not math.isnan(e.qemu_time) else time.time()
    stamp = time.strftime("%H:%M:%S", time.localtime(when)) + f".{int(when * 1000) % 1000:03d}"
    data = " ".join(f"{k}={clean(str(v), 80)}" for k, v in e.data.items())
    style = "bold" if e.name in MIGRATION_EVENTS else "dim"
    return Text.assemble((stamp, "dim"), " ", (f"{e.side[:4]:<4}", "italic"), " ",
                         (clean(e.name, 64), style), " ", data)


class EventsPane(Pane, RichLog):
    """Events as they arrive; only scrolls to the end when the reader is already there."""

    SPEC = PaneSpec("events", "Events", "5", bottom=True)

    def __init__(self, **kw: object) -> None:
        super().__init__(wrap=False, markup=False, max_lines=2000, **kw)  # type: ignore[arg-type]
        self.filter = ""
        self._written = 0  # highest event seq written
        self._events: tuple[EventLine, ...] = ()

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

    def _matches(self, e: EventLine) -> bool:
        if not self.filter:
            return True
        needle = self.filter.lower()
        return needle in e.name.lower() or needle in e.side or needle in str(e.data).lower()

    def set_filter(self, text: str) -> None:
        self.filter = text.strip()
        self.clear()
        for e in self._events:
            if self._matches(e):
                self.write(format_event(e), scroll_end=True)
        self.border_subtitle = f"filter: {self.filter}" if self.filter else ""
