"""The help screen: the keys that do something here and now, with names a person reads."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from qmigtui.ui.dialogs import DIALOG_CSS

Row = tuple[str, str]  # (key as shown, what it does)


class HelpScreen(ModalScreen[None]):
    """Scrolls; escape or ? closes it."""

    DEFAULT_CSS = DIALOG_CSS + """
    HelpScreen > VerticalScroll {
        width: 80%; max-width: 90; height: auto; max-height: 90%; padding: 1 2;
        border: thick $primary; background: $surface;
    }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,question_mark,q", "dismiss(None)", "Close", key_display="esc")]

    def __init__(self, sections: list[tuple[str, list[Row]]]):
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            for title, rows in self.sections:
                table = Table.grid(padding=(0, 2))
                table.add_column(style="bold", no_wrap=True)
                table.add_column()
                for key, what in rows:
                    table.add_row(Text(key), Text(what))
                yield Static(Text(title, style="bold underline"), markup=False)
                yield Static(table, markup=False)
            yield Static(Text("escape or ? closes", style="dim"), markup=False)
