"""The fleet view: one row per migration, most urgent first; Enter opens its desk."""

from __future__ import annotations

import time
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from qmigtui.desk.fleet import SORTS, Fleet, FleetRow, Member, arrange, evacuation
from qmigtui.ui.fleet_table import FleetTable, header
from qmigtui.watch.snapshot import Snapshot

FRAME_S = 0.02  # a new state is on screen within this
NUMBERS_S = 1.0  # new numbers (progress, rate, ETA) are drawn this often


class FleetScreen(Screen[None]):
    """Every watched migration; ``/`` filters, ``o`` changes the order, Enter drills down."""

    DEFAULT_CSS = """
    FleetScreen #fleet-summary { height: auto; padding: 0 1; background: $panel; }
    FleetScreen #fleet-header { height: 1; text-style: bold; }
    FleetScreen #fleet-filter { display: none; }
    FleetScreen #fleet-filter.-shown { display: block; }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("slash", "filter", "Filter", id="fleet.filter", key_display="/"),
        Binding("o", "order", "Order", id="fleet.order"),
        Binding("escape", "clear", "Clear filter", id="fleet.clear", show=False),
        Binding("q", "app.request_quit", "Quit", id="fleet.quit"),
    ]

    class Open(Message):
        """The operator chose a migration."""

        def __init__(self, member: Member):
            super().__init__()
            self.member = member

    def __init__(self, fleet: Fleet):
        super().__init__()
        self.fleet = fleet
        self.sort = "urgency"
        self.text = ""
        self.shown: list[FleetRow] = []
        self.drawn_at = 0.0  # monotonic time of the last redraw
        self._pending = False
        self._stale = False
        self._summary = ""
        self._states: dict[str, str] = {}  # the state each VM was last drawn in
        self._by_name = {m.source.name: m for m in fleet.members}

    def compose(self) -> ComposeResult:
        yield Static("", id="fleet-summary", markup=False)
        yield Static("", id="fleet-header", markup=False)
        yield FleetTable(id="fleet-table")
        yield Input(placeholder="filter: part of a name, host, state or verdict (Esc clears)",
                    id="fleet-filter")
        yield Footer(compact=True)

    @property
    def table(self) -> FleetTable:
        return self.query_one(FleetTable)

    def on_mount(self) -> None:
        self.fleet.subscribe(self._changed)
        self.redraw()
        self.table.focus()
        self.set_interval(NUMBERS_S, self._tick)

    def on_resize(self, event: events.Resize) -> None:
        self.query_one("#fleet-header", Static).update(header(event.size.width))

    def _changed(self, member: Member, snap: Snapshot) -> None:
        """A new state is drawn within FRAME_S; new numbers wait for the next NUMBERS_S tick
        (fifty VMs polled every second would otherwise redraw fifty times a second)."""
        state = ((snap.source.status if snap.source.connected else snap.source.connection)
                 if snap.sides else "unreachable")
        if self._states.get(member.source.name) != state:
            self._states[member.source.name] = state
            if not self._pending:
                self._pending = True
                self.set_timer(FRAME_S, self._frame)
        else:
            self._stale = True

    def _frame(self) -> None:
        self._pending = False
        self.redraw()

    def _tick(self) -> None:
        if self._stale and not self._pending:
            self.redraw()

    def redraw(self) -> None:
        """The rows again, in order; only the lines that changed are rendered anew."""
        self._stale = False
        rows = self.fleet.rows()
        self.shown = arrange(rows, self.sort, self.text)
        self.table.show(self.shown)
        order = f"order: {self.sort}" + (f" · filter: {self.text}" if self.text else "")
        summary = f"{evacuation(rows)}   [{order}]"
        if summary != self._summary:
            self._summary = summary
            self.query_one("#fleet-summary", Static).update(summary)
        self.drawn_at = time.monotonic()

    def cursor_name(self) -> str | None:
        return self.table.cursor_name()

    def on_fleet_table_chosen(self, event: FleetTable.Chosen) -> None:
        event.stop()
        member = self._by_name.get(event.name)
        if member is None:
            return
        if member.desk is None:
            self.app.notify(f"{member.source.name}: {member.error}", severity="error")
            return
        self.post_message(self.Open(member))

    def action_filter(self) -> None:
        box = self.query_one("#fleet-filter", Input)
        box.add_class("-shown")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.text = event.value.strip()
        self.redraw()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.table.focus()

    def action_clear(self) -> None:
        box = self.query_one("#fleet-filter", Input)
        box.value = ""
        box.remove_class("-shown")
        self.text = ""
        self.redraw()
        self.table.focus()

    def action_order(self) -> None:
        names = list(SORTS)
        self.sort = names[(names.index(self.sort) + 1) % len(names)]
        self.redraw()
