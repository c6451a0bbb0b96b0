"""Pane 6: every command of migration.json, per side as this QEMU has it; a form for each,
built from the live schema, and a live view of what queries return."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from qmigtui.model.commands import CommandInfo, InputError, check, from_text
from qmigtui.ui.config_panes import SideTable, flags_text
from qmigtui.ui.coverage import COMMANDS
from qmigtui.ui.dialogs import DIALOG_CSS
from qmigtui.ui.pane import Pane, PaneSpec
from qmigtui.watch.snapshot import Snapshot


class ToolsPane(Pane, SideTable):
    """One row per command of migration.json: has source / destination got it, where it lives."""

    SPEC = PaneSpec("tools", "Tools", "6", bottom=True)

    BINDINGS = [
        Binding("enter", "open('source')", "Form (source)", id="tools.source"),
        Binding("d", "open('destination')", "Form (dest)", id="tools.dest"),
    ]

    class Open(Message):
        def __init__(self, command: str, side: str):
            super().__init__()
            self.command, self.side = command, side

    def show(self, snap: Snapshot) -> None:
        if self.same_inputs(snap, [(s.name, s.supported_commands, s.command_features)
                                   for s in snap.sides]):
            return
        sides = self._columns(snap, (("command", "name"),), (("where", "where"), ("", "flags")))
        for name, where in COMMANDS.items():
            have = [("yes" if name in s.supported_commands else "-") if s.supported_commands else "?"
                    for s in snap.sides]
            features = sorted({f for s in snap.sides for f in s.command_features.get(name, ())})
            flags = flags_text(tuple(features))
            self._put_row(name, dict(zip(sides, have, strict=True)) | {"flags": flags},
                          [name, *have, where, flags])

    def action_open(self, side: str) -> None:
        name = self.cursor_name()
        if name is not None:
            self.post_message(self.Open(name, side))


class CommandForm(ModalScreen["dict[str, Any] | None"]):
    """A field per argument, typed and checked as in the live schema; enter sends."""

    DEFAULT_CSS = DIALOG_CSS + """
    CommandForm Input { margin-bottom: 0; }
    CommandForm VerticalScroll { height: auto; max-height: 24; }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "dismiss(None)", "Cancel"), Binding("enter", "send", "Send")]

    def __init__(self, info: CommandInfo, side: str, defaults: dict[str, str] | None = None):
        super().__init__()
        self.info, self.side, self.defaults = info, side, defaults or {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{self.info.name} on the {self.side}", markup=False)
            if not self.info.args:
                yield Static("no arguments", classes="hint", markup=False)
            with VerticalScroll():
                for arg in self.info.args:
                    need = "optional" if arg.optional else "required"
                    flags = f", {' '.join(arg.features)}" if arg.features else ""
                    yield Label(f"{arg.name}  ({arg.type}, {need}{flags})", classes="hint", markup=False)
                    yield Input(self.defaults.get(arg.name, ""), id=f"arg-{arg.name}",
                                placeholder=arg.type)
            yield Static("", id="error", classes="error", markup=False)
            with Horizontal():
                yield Button("Send (enter)", id="send", variant="warning")
                yield Button("Cancel (esc)", id="cancel", variant="primary")

    def _args(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for arg in self.info.args:
            text = self.query_one(f"#arg-{arg.name}", Input).value
            if text.strip():
                args[arg.name] = from_text(arg, text)
        problems = check(self.info, args)
        if problems:
            raise InputError("; ".join(problems))
        return args

    def _submit(self) -> None:
        try:
            args = self._args()
        except InputError as e:
            self.query_one("#error", Static).update(str(e))
            return
        self.dismiss(args)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def action_send(self) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self._submit()
        else:
            self.dismiss(None)


Fetch = Callable[[], Awaitable[Any]]


def render_result(command: str, value: Any) -> Any:
    """A reply as a table where rows of objects read better so, else pretty-printed."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        keys = list(dict.fromkeys(k for v in value for k in v))
        table = Table(title=command, title_justify="left", show_edge=False)
        for k in keys:
            table.add_column(Text(k))
        for v in value:
            table.add_row(*(Text(_cell(v.get(k))) for k in keys))
        return table
    if value in ({}, None):
        return Text(f"{command}: ok (nothing returned)")
    return Text(json.dumps(value, indent=2, ensure_ascii=False, default=str)[:100_000])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return value if isinstance(value, str) else json.dumps(value)[:80]


class ResultView(ModalScreen[None]):
    """What a command returned; for a query, asked again every second while open."""

    DEFAULT_CSS = DIALOG_CSS + """
    ResultView > Vertical { max-width: 120; }
    ResultView VerticalScroll { height: auto; max-height: 30; }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,q,enter", "dismiss(None)", "Close")]

    def __init__(self, title: str, value: Any, fetch: Fetch | None = None):
        super().__init__()
        self.title_text, self.value, self.fetch = title, value, fetch
        self.refreshes = 0

    def compose(self) -> ComposeResult:
        with Vertical():
            live = " (live: asked again every second)" if self.fetch else ""
            yield Label(self.title_text + live, markup=False)
            with VerticalScroll():
                yield Static(render_result(self.title_text, self.value), id="result", markup=False)
            yield Static("escape closes", classes="hint", markup=False)

    def on_mount(self) -> None:
        if self.fetch is not None:
            self.set_interval(1.0, self._again)

    async def _again(self) -> None:
        assert self.fetch is not None
        try:
            self.value = await self.fetch()
        except Exception as e:  # shown in place, never raised: the view stays open
            self.query_one("#result", Static).update(Text(str(e), style="bold red"))
            return
        self.refreshes += 1
        self.query_one("#result", Static).update(render_result(self.title_text, self.value))
