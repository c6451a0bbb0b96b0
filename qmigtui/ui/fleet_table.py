"""The fleet's rows, drawn line by line: only the rows that changed are rendered again.

A DataTable renders every visible cell whenever one changes or the order does; with fifty
VMs that was most of the app's CPU. Here each row is one Strip, cached until the row, the
cursor on it or the width changes.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from qmigtui.desk.fleet import FleetRow
from qmigtui.model import units
from qmigtui.model.text import clean

# (header, width; 0: what is left)
COLUMNS = (("VM", 16), ("source → destination", 0), ("state", 15), ("pilot", 8),
           ("progress", 9), ("throughput", 11), ("verdict", 15), ("ETA", 9))


def cells(row: FleetRow) -> tuple[str, ...]:
    """The texts of one row (names and states come from peers: cleaned, never markup)."""
    progress = f"{row.progress * 100:5.1f} %" if row.progress is not None else "-"
    rate = units.format_rate(row.throughput) if row.throughput is not None else "-"
    eta = units.format_ms(row.eta * 1000) if row.eta is not None else "-"
    pilot = row.autopilot or "-"
    return tuple(clean(v, 200) for v in (row.name, row.route, row.state, pilot, progress, rate,
                                         row.verdict, eta))


def layout(texts: tuple[str, ...], width: int) -> str:
    """One line: each text cut or padded to its column, the flexible one taking the rest."""
    fixed = sum(w + 1 for _, w in COLUMNS if w) + 1
    flexible = max(8, width - fixed - 1)
    parts = []
    for text, (_, w) in zip(texts, COLUMNS, strict=True):
        w = w or flexible
        parts.append(text[:w - 1] + "…" if len(text) > w else text.ljust(w))
    return " " + " ".join(parts)


class FleetTable(ScrollView, can_focus=True):
    """Rows of the fleet with a cursor; Enter says which VM was chosen."""

    DEFAULT_CSS = "FleetTable { height: 1fr; }"
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("up", "move(-1)", "Up", show=False), Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "move(-10)", show=False), Binding("pagedown", "move(10)", show=False),
        Binding("home", "move(-100000)", show=False), Binding("end", "move(100000)", show=False),
        Binding("enter", "choose", "Open desk", id="fleet.open"),
    ]

    class Chosen(Message):
        def __init__(self, name: str):
            super().__init__()
            self.name = name

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.rows: list[FleetRow] = []
        self.cursor = 0
        self._texts: list[tuple[str, ...]] = []
        self._cells: dict[FleetRow, tuple[str, ...]] = {}  # the texts of the rows shown last
        self._cache: dict[tuple[tuple[str, ...], bool, int], Strip] = {}

    def show(self, rows: list[FleetRow]) -> None:
        """These rows from now on (the cursor stays on its VM when it is still shown); only
        the lines whose text or cursor changed are refreshed."""
        keep, was = self.cursor_name(), self.cursor
        self.rows = rows
        known = self._cells
        texts = [known[r] if r in known else cells(r) for r in rows]
        self._cells = dict(zip(rows, texts, strict=True))
        names = [r.name for r in rows]
        if keep in names:
            self.cursor = names.index(keep)
        self.cursor = max(0, min(self.cursor, len(rows) - 1))
        old, self._texts = self._texts, texts
        self.virtual_size = Size(self.size.width, len(rows))
        if len(self._cache) > 4 * max(16, len(rows)):
            self._cache.clear()
        if len(old) != len(texts):
            self.refresh()
            return
        top = self.scroll_offset.y  # only the lines on screen, from the first changed to the last
        on_screen = range(top, min(len(texts), top + max(1, self.size.height)))
        changed = [y for y in on_screen if old[y] != texts[y] or (was != self.cursor
                                                                  and y in (was, self.cursor))]
        if changed:
            self.refresh_lines(changed[0], changed[-1] - changed[0] + 1)

    def cursor_name(self) -> str | None:
        return self.rows[self.cursor].name if 0 <= self.cursor < len(self.rows) else None

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.size.width
        if index >= len(self._texts):
            return Strip.blank(width)
        selected = index == self.cursor and self.has_focus
        key = (self._texts[index], selected, width)
        strip = self._cache.get(key)
        if strip is None:
            style = Style(reverse=True) if selected else Style()
            strip = Strip([Segment(layout(self._texts[index], width).ljust(width)[:width], style)])
            self._cache[key] = strip
        return strip

    def action_move(self, step: int) -> None:
        if not self.rows:
            return
        self.cursor = max(0, min(len(self.rows) - 1, self.cursor + step))
        self.scroll_to_region_cursor()
        self.refresh()

    def scroll_to_region_cursor(self) -> None:
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def action_choose(self) -> None:
        if (name := self.cursor_name()) is not None:
            self.post_message(self.Chosen(name))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows))
        self.refresh()


def header(width: int) -> str:
    return layout(tuple(h for h, _ in COLUMNS), width)
