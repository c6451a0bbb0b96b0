"""The qmigtui app: the panes over a Snapshot, a status line, and the keys (in the *_keys modules)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from textual import events, work
from textual.actions import parse as parse_action
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from qmigtui.desk.facade import Desk
from qmigtui.training.exercises import ExerciseResult
from qmigtui.ui import keymap, themes
from qmigtui.ui.advice_keys import AdviceKeys
from qmigtui.ui.autopilot_keys import AutopilotKeys
from qmigtui.ui.config_panes import CapabilitiesPane, ParametersPane
from qmigtui.ui.crash import crash_line, write_crash_log
from qmigtui.ui.dialogs import AskText, Confirm, EditParameter
from qmigtui.ui.events_pane import EventsPane
from qmigtui.ui.fleet_keys import FleetFactory, FleetKeys
from qmigtui.ui.help_screen import HelpScreen
from qmigtui.ui.keymap import key_scopes
from qmigtui.ui.lab_keys import LabKeys
from qmigtui.ui.panes import PANES
from qmigtui.ui.replay_keys import ReplayKeys
from qmigtui.ui.tool_keys import ToolKeys
from qmigtui.ui.topline import topline
from qmigtui.watch.snapshot import TERMINAL, Snapshot

BOTTOM_DEFAULT = next(p.SPEC.id for p in PANES if p.SPEC.bottom)
WIDE = (120, 36)
HANGUP_GRACE = 0.8  # seconds a hung-up app may take to close its sessions before it just ends
CRASH_GRACE = 2.0  # seconds a crashed app may take to close before it just ends


DeskFactory = Callable[[], Awaitable[Desk]]


def _write_nowhere() -> None:
    """Point standard output and error at /dev/null: after a hang-up their terminal is gone,
    and a write or the final flush failing there made Python 3.13 exit with status 120."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


class MigrationApp(LabKeys, ReplayKeys, AutopilotKeys, AdviceKeys, ToolKeys, FleetKeys):
    """Watch and drive one migration (source, and destination when given)."""

    CSS_PATH = "app.tcss"
    TITLE = "qmigtui"
    BINDINGS = [
        Binding("slash", "filter_events", "Filter", id="filter", show=False),
        *(Binding(p.SPEC.key, f"focus_pane('{p.SPEC.id}')", p.SPEC.title, show=False,
                  id=f"pane{p.SPEC.key}") for p in PANES),
        Binding("question_mark", "help", "Help", id="help", key_display="?"),
        Binding("l", "messages", "Messages", id="messages", show=False),
        Binding("q", "request_quit", "Quit", id="quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="ctrl-c"),
    ]

    def __init__(self, desk_factory: DeskFactory | None = None, *, theme: str | None = None,
                 title: str = "qmigtui", hints: bool = True, fleet_factory: FleetFactory | None = None,
                 keys: Mapping[str, Any] | None = None, autopilot: str | None = None):
        super().__init__()
        self.autopilot_policy = autopilot or self.autopilot_policy
        self._engage_at_start = autopilot is not None  # the command line was the confirmation
        # [keys] of config.toml: binding id -> key; what cannot apply is told once mounted
        self.keys, self.key_problems = keymap.resolve(keys or {}, key_scopes(self.all_bindings()))
        if self.keys:
            self.set_keymap(self.keys)
        self.fleet_factory, self.fleet, self._watched = fleet_factory, None, set()
        self.hints = hints  # the verdict's remedies shown and offered (off: --no-hints)
        self.desk_factory = desk_factory
        self.desk: Desk | None = None
        self.snapshot: Snapshot | None = None
        self.current_pane = "status"
        self.sub_title = title
        self.startup_error: str | None = None
        self.crash: str | None = None  # one line, when a bug of ours ended the app
        self._signal_status = 0  # 128 + the signal that ended the app (SIGHUP, SIGTERM)
        self._told: set[str] = set()  # problems already notified
        self.messages: deque[tuple[str, str, str]] = deque(maxlen=500)
        self.notified: deque[tuple[str, str]] = deque(maxlen=500)
        self._latest: Snapshot | None = None
        self._frame_pending = False
        self._last_frame = 0.0
        self._allowed: tuple[object, ...] = ()
        self.staged = False
        self.exercise_result: ExerciseResult | None = None
        self._topline_text = ""
        found, self.theme_problems = themes.discover()
        for t in found:
            self.register_theme(t)
        wanted = theme or themes.remembered() or themes.DEFAULT
        if wanted not in self.available_themes:
            self.theme_problems.append(f"no theme {wanted!r} (known: "
                                      f"{', '.join(sorted(self.available_themes))}); using "
                                      f"{themes.DEFAULT}")
            wanted = themes.DEFAULT if themes.DEFAULT in self.available_themes else "textual-dark"
        self.theme = wanted
        self._remember_theme = theme is None  # an explicit --theme is for this run only

    # -- layout -------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("connecting…", id="topline", markup=False)
        with Container(id="panes"):
            for pane in PANES:
                spec = pane.SPEC
                widget = pane(id=spec.id, classes="pane -bottom" if spec.bottom else "pane")  # type: ignore[call-arg]
                assert isinstance(widget, Widget)
                widget.border_title = f"{spec.key} {spec.title}"
                widget.set_class(spec.id == BOTTOM_DEFAULT, "-shown-bottom")
                yield widget
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for problem in [*self.theme_problems, *self.key_problems]:
            self.notify(problem, severity="warning", timeout=15, markup=False)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if not self.is_headless:  # an SSH disconnect (SIGHUP), SIGTERM or SIGINT quits cleanly
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGTERM, self._terminated, signal.SIGTERM)
            loop.add_signal_handler(signal.SIGINT, self._terminated, signal.SIGINT)
            loop.add_signal_handler(signal.SIGHUP, self._hang_up)
        self._apply_layout()
        self.query_one("#status").add_class("-current")
        if self.desk_factory is not None:
            self.open_desk()
        if self.fleet_factory is not None:
            self.open_fleet()
        self.set_interval(0.5, self._tick_replay)

    def _tick_replay(self) -> None:
        """A replay's clock moves between snapshots: keep its position on the top line fresh."""
        if self._player() is not None and self.snapshot is not None:
            self._set_topline(topline(self.snapshot, self.desk))

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size.width, event.size.height)

    def _apply_layout(self, width: int | None = None, height: int | None = None) -> None:
        width = self.size.width if width is None else width
        height = self.size.height if height is None else height
        wide = width >= WIDE[0] and height >= WIDE[1]
        self.set_class(wide, "-wide")
        self.set_class(not wide, "-narrow")

    # -- the desk -------------------------------------------------------------

    @work(exclusive=True, group="desk", exit_on_error=False)
    async def open_desk(self) -> None:
        assert self.desk_factory is not None
        try:
            desk = await asyncio.wait_for(self.desk_factory(), 120)
        except Exception as e:  # shown, not raised: the app must not die on a bad endpoint
            self.startup_error = str(e) or type(e).__name__
            self.query_one("#topline", Static).update(f"cannot start: {self.startup_error}")
            self.notify(self.startup_error, severity="error", timeout=30, markup=False)
            return
        self.attach(desk)

    def attach(self, desk: Desk) -> None:
        """Render a desk (Rendering.attach), and stage its scenario when it has one."""
        super().attach(desk)
        self.follow_autopilot(desk)
        if self._engage_at_start and not desk.read_only:
            self._engage_at_start = False
            try:
                self.engage_autopilot(desk.autopilot.policy(self.autopilot_policy))
            except ValueError as e:
                self.notify(str(e), severity="error")
        if desk.scenario is not None:
            self.run_worker(self._stage(desk), exit_on_error=False)

    async def _close_desk(self) -> None:
        if self.fleet is not None:  # every VM's desk, the one shown among them
            self.desk = None
            await self.close_fleet()
        if self.desk is not None:
            desk, self.desk = self.desk, None
            await desk.close()

    def _theme_changed(self, theme: Any) -> None:
        """A theme picked in the palette is the one the next start uses (an explicit --theme
        is for one run only)."""
        if self._remember_theme:
            themes.remember(theme.name)

    def _terminated(self, signum: int) -> None:
        """SIGTERM or SIGINT: quit as the q key does, exit status 143 or 130."""
        self._signal_status = 128 + signum
        self.run_worker(self.action_quit())

    def _hang_up(self) -> None:
        """The terminal is gone (an SSH drop): let go of QEMU first (the monitors and a lab at
        once), then leave within HANGUP_GRACE seconds, exit status 129: an operator who logs in
        again finds the monitor free. With nothing to draw on, the exit does not wait for the
        screen: a timer thread ends the process if the driver blocks."""
        self._signal_status = 128 + signal.SIGHUP
        _write_nowhere()  # the terminal is gone: what is still written goes nowhere, no error
        self.let_go(fast=True)
        self.run_worker(self.action_quit())
        watchdog = threading.Timer(HANGUP_GRACE, os._exit, (self._signal_status,))
        watchdog.daemon = True
        watchdog.start()

    def _handle_exception(self, error: Exception) -> None:
        """A bug of ours ends the app: the traceback to a file, one line for the terminal, the
        lab's QEMUs stopped at once, exit status 1 within CRASH_GRACE seconds whatever hangs."""
        if self.crash is None:
            self.crash = crash_line(error, write_crash_log(error))
            self.let_go()
            if not self.is_headless:  # under a test's Pilot the exception is re-raised instead
                def last_word() -> None:
                    os.write(2, (self.crash or "").encode() + b"\n")
                    os._exit(1)
                watchdog = threading.Timer(CRASH_GRACE, last_word)
                watchdog.daemon = True
                watchdog.start()
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        self._close_messages_no_wait()

    def action_request_quit(self) -> None:
        """q: quit; in the lab, with a migration running, ask first (both QEMUs stop with us)."""
        snap, desk = self.snapshot, self.desk
        running = snap is not None and snap.source.status not in TERMINAL
        if desk is None or not desk.is_lab or not running:
            self.run_worker(self.action_quit())
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self.action_quit())
        self.push_screen(Confirm("Quit the lab?", "A migration is running: both lab QEMUs stop "
                                 "with qmigtui, and the migration with them."), answered)

    async def action_quit(self) -> None:
        await self._close_desk()
        self.exit(self._signal_status)

    # -- actions ----------------------------------------------------------------

    def action_focus_pane(self, pane_id: str) -> None:
        """Make a pane current (at 80x24 the only one shown); a bottom pane takes the bottom row
        of the wide layout until another pane is current."""
        bottom = next((p.SPEC.id for p in PANES if p.SPEC.bottom and p.SPEC.id == pane_id),
                      BOTTOM_DEFAULT)
        target = None
        for pane in self._panes():
            assert isinstance(pane, Widget)
            pane.set_class(pane.id == pane_id, "-current")
            pane.set_class(pane.id == bottom, "-shown-bottom")
            if pane.id == pane_id:
                target = pane.focus_target()
        self.current_pane = pane_id
        if target is not None:
            target.focus()

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The keys that do something now: the app's, then those of the pane with the focus."""
        here = [(self.key_name(b), b.description) for b in self.all_bindings()
                if b.description and self._applies(b)]
        here.append(("ctrl+p", "every action, by name (command palette)"))
        sections = [("Keys", here)]
        pane = next((p for p in self._panes() if isinstance(p, Widget) and p.id == self.current_pane), None)
        if pane is not None:
            keys = [(self.key_name(b), b.description) for b in getattr(type(pane), "BINDINGS", ())
                    if isinstance(b, Binding) and b.description]
            if keys:
                sections.append((f"In pane {pane.SPEC.key} {pane.SPEC.title}", keys))
        return sections

    def _applies(self, binding: Binding) -> bool:
        _, action, params = parse_action(binding.action)
        return bool(self.check_action(action, params))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections()))

    def action_messages(self) -> None:
        """The warnings and errors of this session, newest last (toasts go; these stay)."""
        rows = [(f"{at} {severity}", text) for at, severity, text in self.messages]
        self.push_screen(HelpScreen([("Messages", rows or [("", "nothing yet")])]))

    def action_filter_events(self) -> None:
        events = self.query_one(EventsPane)

        def done(text: str | None) -> None:
            if text is not None:
                events.set_filter(text)
                self.action_focus_pane("events")
        self.push_screen(AskText("Show events containing:", events.filter), done)

    # -- pane messages ----------------------------------------------------------

    def on_capabilities_pane_toggle(self, message: CapabilitiesPane.Toggle) -> None:
        desk = self._writable()
        if desk is None:
            return

        async def toggle() -> None:
            for side in message.sides:
                await desk.set_capability(side, message.capability, message.state,
                                          check_peer=len(message.sides) == 1)
        state = "on" if message.state else "off"
        self._run(f"cap:{message.capability}", toggle,
                  f"{message.capability} {state} on {', '.join(message.sides)}")

    def on_parameters_pane_edit(self, message: ParametersPane.Edit) -> None:
        desk = self._writable()
        if desk is None:
            return

        def edited(text: str | None) -> None:
            if text is None:
                return
            self._run(f"param:{message.name}",
                      lambda: desk.set_parameter(message.side, message.name, text),
                      f"{message.name} set on {message.side}")
        self.push_screen(EditParameter(message.name, message.side, message.current, message.qtype),
                         edited)

    # -- command palette ----------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self.all_bindings():
            if binding.action not in ("quit", "request_quit", "help"):
                action = binding.action
                key = self.key_name(binding)
                yield SystemCommand(binding.description, f"key {key}",
                                    lambda a=action: self.run_action(a))
