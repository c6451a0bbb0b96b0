"""Any command of the schema, from the tools pane's forms and from the console."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from qmigtui.desk.facade import ActionError
from qmigtui.model.commands import (
    DANGEROUS,
    InputError,
    exec_commands,
    is_query,
    parse_line,
)
from qmigtui.ui.app_base import AppBase
from qmigtui.ui.console_pane import ConsolePane
from qmigtui.ui.dialogs import Confirm
from qmigtui.ui.tools_pane import CommandForm, ResultView, ToolsPane, render_result

TOOL_DEFAULTS = {  # what a form starts with, so the common case is one key away
    "calc-dirty-rate": {"calc-time": "1", "sample-pages": "4096", "mode": "page-sampling"},
    "snapshot-save": {"job-id": "snap-save", "tag": "qmigtui", "vmstate": "disk0", "devices": "disk0"},
    "snapshot-load": {"job-id": "snap-load", "tag": "qmigtui", "vmstate": "disk0", "devices": "disk0"},
    "snapshot-delete": {"job-id": "snap-delete", "tag": "qmigtui", "devices": "disk0"},
    "set-vcpu-dirty-limit": {"dirty-rate": "10"},
}

class ToolKeys(AppBase):
    """Any command of the schema, from the tools pane's forms and from the console."""

    def on_tools_pane_open(self, message: ToolsPane.Open) -> None:
        if self.desk is None:
            return
        if not self.desk.has_side(message.side):
            self.notify(f"no {message.side} endpoint", severity="warning")
            return
        info = self.desk.commands(message.side).get(message.command)
        if info is None and self.desk.needs_no_form(message.command):
            self.run_tool(message.side, message.command, {})
            return
        if info is None:
            self.notify(f"{message.command}: not in the {message.side} QEMU's schema", severity="warning")
            return
        defaults = TOOL_DEFAULTS.get(message.command, {})

        def filled(args: dict[str, Any] | None) -> None:
            if args is not None:
                self.run_tool(message.side, message.command, args)
        self.push_screen(CommandForm(info, message.side, defaults), filled)

    def run_tool(self, side: str, command: str, args: dict[str, Any],
                 log: Callable[[Any], object] | None = None) -> None:
        """Send one command of the schema; anything that is not a query asks first, showing the
        exact JSON, and one that makes QEMU run a shell command names that command."""
        desk = self.desk
        if desk is None:
            return
        exact = json.dumps({"execute": command, "arguments": args} if args else {"execute": command})

        async def worker() -> None:
            try:
                result = await desk.once(f"tool:{side}:{command}", desk.run_tool(side, command, args))
            except ActionError as e:
                self.notify(str(e), severity="error", timeout=10, markup=False)
                if log is not None:
                    log(f"error: {e}")
                return
            if log is not None:
                log(result)
                return
            fetch = None
            if command.startswith("query-"):
                async def fetch() -> Any:
                    return await desk.run_command(side, command, args)
            self.push_screen(ResultView(f"{command} ({side})", result, fetch))

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(worker(), exit_on_error=False)
        shell = exec_commands(args)
        note = desk.raw_note(side, command, args)
        if note:  # even a query: libvirt marks the domain for any raw command
            question = f"Send {command} to the {side}? It is {note}."
        elif shell:
            question = f"QEMU will run this on the {side} host: {shell[0]!r}. Send {command}?"
        elif command in DANGEROUS:
            question = f"Send {command} to the {side}? It ends or undoes something."
        elif not is_query(command, args):
            question = f"Send {command} to the {side}?"
        else:
            self.run_worker(worker(), exit_on_error=False)
            return
        self.push_screen(Confirm(question, f"sends: {exact}"), answered)

    def on_console_pane_submitted(self, message: ConsolePane.Submitted) -> None:
        console = self.query_one(ConsolePane)
        if self.desk is None:
            console.log_widget.write("not connected yet")
            return
        try:
            command, args = parse_line(message.text)
        except InputError as e:
            console.log_widget.write(f"not sent: {e}")
            return
        problems = self.desk.command_problems(message.side, command, args)
        if problems:
            console.log_widget.write("not sent: " + "; ".join(problems))
            return
        self.run_tool(message.side, command, args,
                      log=lambda value: console.log_widget.write(render_result(command, value)))
