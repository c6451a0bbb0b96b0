"""The fleet view: one row per migration, most urgent first; Enter opens its desk."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from qmigtui.desk.fleet import SORTS, Fleet, FleetRow, Member, arrange, evacuation
from qmigtui.model import units
from qmigtui.watch.snapshot import Snapshot

FRAME_S = 0.02  # a burst of snapshots from many VMs makes one redraw at most this often
COLUMNS = (("VM", "vm"), ("source → destination", "route"), ("state", "state"),
           ("progress", "progress"), ("throughput", "rate"), ("verdict", "verdict"), ("ETA", "eta"))


def cells(row: FleetRow) -> tuple[Text, ...]:
    """The cells of one row, as plain text (names and states come from peers: never markup)."""
    progress = f"{row.progress * 100:5.1f} %" if row.progress is not None else "-"
    rate = units.format_rate(row.throughput) if row.throughput is not None else "-"
    eta = units.format_ms(row.eta * 1000) if row.eta is not None else "-"
    return tuple(Text(v) for v in (row.name, row.route, row.state, progress, rate, row.verdict, eta))


class FleetScreen(Screen[None]):
    """Every watched migration; ``/`` filters, ``o`` changes the order, Enter drills down."""

    DEFAULT_CSS = """
    FleetScreen #fleet-summary { height: auto; padding: 0 1; background: $panel; }
    FleetScreen DataTable { height: 1fr; }
    FleetScreen #fleet-filter { display: none; }
    FleetScreen #fleet-filter.-shown { display: block; }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("enter", "open", "Open desk", id="fleet.open"),
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
        self.drawn_at = 0.0  # monotonic time of the last redraw (for the bench)
        self._pending = False
        self._by_name = {m.source.name: m for m in fleet.members}

    def compose(self) -> ComposeResult:
        yield Static("", id="fleet-summary", markup=False)
        table: DataTable[Text] = DataTable(id="fleet-table", cursor_type="row", zebra_stripes=True)
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Input(placeholder="filter: part of a name, host, state or verdict (Esc clears)",
                    id="fleet-filter")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.fleet.subscribe(self._changed)
        self.redraw()
        self.query_one(DataTable).focus()

    def _changed(self, member: Member, snap: Snapshot) -> None:
        if not self._pending:
            self._pending = True
            self.set_timer(FRAME_S, self._frame)

    def _frame(self) -> None:
        self._pending = False
        self.redraw()

    def redraw(self) -> None:
        """Rows again, in order, keeping the cursor on the VM it was on."""
        rows = self.fleet.rows()
        self.shown = arrange(rows, self.sort, self.text)
        table = self.query_one(DataTable)
        keep = self.cursor_name()
        table.clear()
        for row in self.shown:
            table.add_row(*cells(row), key=row.name)
        if keep is not None and keep in {r.name for r in self.shown}:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        order = f"order: {self.sort}" + (f" · filter: {self.text}" if self.text else "")
        self.query_one("#fleet-summary", Static).update(f"{evacuation(rows)}   [{order}]")
        self.drawn_at = time.monotonic()

    def cursor_name(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_open(self) -> None:
        name = self.cursor_name()
        member = self._by_name.get(name) if name is not None else None
        if member is None:
            return
        if member.desk is None:
            self.app.notify(f"{member.source.name}: {member.error}", severity="error")
            return
        self.post_message(self.Open(member))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row (the table takes the key itself and says which row)."""
        event.stop()
        self.action_open()

    def action_filter(self) -> None:
        box = self.query_one("#fleet-filter", Input)
        box.add_class("-shown")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.text = event.value.strip()
        self.redraw()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def action_clear(self) -> None:
        box = self.query_one("#fleet-filter", Input)
        box.value = ""
        box.remove_class("-shown")
        self.text = ""
        self.redraw()
        self.query_one(DataTable).focus()

    def action_order(self) -> None:
        names = list(SORTS)
        self.sort = names[(names.index(self.sort) + 1) % len(names)]
        self.redraw()
