"""Pane 7: a QMP console with completion from the live schema, checked before sending.

``query-migrate``, ``migrate-set-parameters downtime-limit=500`` or
``@dst query-migrate`` (``@src`` / ``@dst`` pick the side; the source is the
default). Up and down walk the history. Replies are pretty-printed.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widget import Widget
from textual.widgets import Input, RichLog

from qmigtui.model.commands import CommandInfo, completions
from qmigtui.ui.pane import Pane, PaneSpec

SIDE_PREFIX = {"@src": "source", "@source": "source", "@dst": "destination", "@destination": "destination"}


def split_side(text: str) -> tuple[str, str]:
    """``@dst query-migrate`` -> (destination, query-migrate)."""
    head, _, rest = text.strip().partition(" ")
    if head in SIDE_PREFIX:
        return SIDE_PREFIX[head], rest.strip()
    return "source", text.strip()


class SchemaSuggester(Suggester):
    """Completes command names, then argument names, from the side's live schema."""

    def __init__(self, commands: Callable[[str], dict[str, CommandInfo]]):
        super().__init__(use_cache=False, case_sensitive=True)
        self.commands = commands

    async def get_suggestion(self, value: str) -> str | None:
        prefix = ""
        head = value.split(" ", 1)[0]
        if head in SIDE_PREFIX:
            prefix, value = value[:len(head) + 1], value[len(head) + 1:]
            if not value:
                return None
        side, _ = split_side(prefix + "x")
        known = self.commands(side)
        name = value.split(" ", 1)[0]
        found = completions(value, sorted(known), known.get(name))
        return prefix + found[0] if found else None


class ConsolePane(Pane, Vertical):
    """Replies above, the command line below."""

    SPEC = PaneSpec("console", "Console", "7", bottom=True)

    DEFAULT_CSS = """
    ConsolePane RichLog { height: 1fr; }
    ConsolePane Input { dock: bottom; }
    """
    BINDINGS = [Binding("escape", "leave", "Leave console", key_display="esc"),
                Binding("up", "history(-1)", "Earlier line", key_display="↑"),
                Binding("down", "history(1)", "Later line", key_display="↓")]

    class Submitted(Message):
        def __init__(self, side: str, text: str):
            super().__init__()
            self.side, self.text = side, text

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.history: list[str] = []
        self._at = 0
        self.commands: Callable[[str], dict[str, CommandInfo]] = lambda side: {}

    def compose(self) -> ComposeResult:
        yield RichLog(id="console-log", wrap=True, markup=False, max_lines=2000)
        yield Input(placeholder="a QMP command (→ takes the completion; @dst for the destination)",
                    id="console-input", suggester=SchemaSuggester(lambda side: self.commands(side)))

    def focus_target(self) -> Widget:
        return self.query_one("#console-input", Input)

    @property
    def log_widget(self) -> RichLog:
        return self.query_one("#console-log", RichLog)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        event.input.value = ""
        if not self.history or self.history[-1] != text:
            self.history.append(text)
        self._at = len(self.history)
        side, line = split_side(text)
        self.log_widget.write(f"{'dst' if side == 'destination' else 'src'}> {line}")
        self.post_message(self.Submitted(side, line))

    async def action_leave(self) -> None:
        """Back to the status pane: the keys are the app's again."""
        await self.app.run_action("focus_pane('status')")

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._at = max(0, min(len(self.history), self._at + step))
        line = self.history[self._at] if self._at < len(self.history) else ""
        box = self.query_one("#console-input", Input)
        box.value = line
        box.cursor_position = len(line)
