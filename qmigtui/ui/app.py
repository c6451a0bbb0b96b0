"""The qmigtui app: five panes over a Snapshot, a status line, and the migration actions."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer, Static

from qmigtui.analysis.forecast import Advice
from qmigtui.control import audit as audit_log
from qmigtui.control.connect import Backend, ReplayControl
from qmigtui.control.ops import ControlError, Controller
from qmigtui.control.scenarios import Verdict
from qmigtui.control.scenarios import summary as exercise_summary
from qmigtui.control.tools import DANGEROUS, JOB_COMMANDS
from qmigtui.lab.pair import LabError
from qmigtui.model import units
from qmigtui.model.commands import InputError, parse_line
from qmigtui.ui import themes
from qmigtui.ui.config_panes import CapabilitiesPane, ParametersPane
from qmigtui.ui.console_pane import ConsolePane
from qmigtui.ui.dialogs import AskText, Confirm, EditParameter, StartMigration
from qmigtui.ui.events_pane import EventsPane
from qmigtui.ui.forecast_view import ForecastView
from qmigtui.ui.graphs_pane import GraphsPane
from qmigtui.ui.status_pane import StatusPane
from qmigtui.ui.tools_pane import CommandForm, ResultView, ToolsPane, render_result
from qmigtui.watch.snapshot import Snapshot

PANES = (("status", "1 Status"), ("graphs", "2 Graphs"), ("capabilities", "3 Capabilities"),
         ("parameters", "4 Parameters"), ("events", "5 Events"), ("tools", "6 Tools"),
         ("console", "7 Console"))
MIGRATION_ACTIONS = ("migrate", "postcopy", "pause", "recover", "continue", "cancel")
REPLAY_ACTIONS = ("replay_pause", "replay_speed", "replay_jump", "replay_next")
WIDE = (120, 36)
HANGUP_GRACE = 5.0  # seconds a hung-up app may take to close its sessions before it just ends
MIN_FRAME = 0.05
TOOL_DEFAULTS = {  # what a form starts with, so the common case is one key away
    "calc-dirty-rate": {"calc-time": "1", "sample-pages": "4096", "mode": "page-sampling"},
    "snapshot-save": {"job-id": "snap-save", "tag": "qmigtui", "vmstate": "disk0", "devices": "disk0"},
    "snapshot-load": {"job-id": "snap-load", "tag": "qmigtui", "vmstate": "disk0", "devices": "disk0"},
    "snapshot-delete": {"job-id": "snap-delete", "tag": "qmigtui", "devices": "disk0"},
    "set-vcpu-dirty-limit": {"dirty-rate": "10"},
}  # seconds between renders when snapshots come in a burst

BackendFactory = Callable[[], Awaitable[Backend]]


class MigrationApp(App[int]):
    """Watch and drive one migration (source, and destination when given)."""

    CSS_PATH = "app.tcss"
    TITLE = "qmigtui"
    BINDINGS = [
        Binding("m", "migrate", "Migrate", id="migrate"),
        Binding("p", "postcopy", "Postcopy", id="postcopy"),
        Binding("z", "pause", "Pause", id="pause"),
        Binding("r", "recover", "Recover", id="recover"),
        Binding("n", "continue", "Continue", id="continue"),
        Binding("x", "cancel", "Cancel", id="cancel"),
        Binding("a", "advice", "Advice", id="advice"),
        Binding("e", "explain", "Why", id="explain"),
        Binding("D", "measure", "Measure dirty rate", id="measure", show=False),
        Binding("space", "replay_pause", "Pause replay", id="replay-pause"),
        Binding("plus,equals_sign", "replay_speed(1)", "Faster", id="replay-faster"),
        Binding("minus", "replay_speed(-1)", "Slower", id="replay-slower"),
        Binding("g", "replay_jump", "Jump to", id="replay-jump"),
        Binding("right_square_bracket", "replay_next", "Next state", id="replay-next"),
        Binding("exclamation_mark", "lab_fault('cut')", "lab: cut the link", show=False, id="lab-cut"),
        Binding("at", "lab_fault('restore')", "lab: restore the link", show=False, id="lab-restore"),
        Binding("number_sign", "lab_fault('kill')", "lab: kill the destination", show=False,
                id="lab-kill"),
        Binding("dollar_sign", "lab_fault('guest')", "lab: new guest (working set, rate)", show=False,
                id="lab-guest"),
        Binding("slash", "filter_events", "Filter", id="filter", show=False),
        Binding("1", "focus_pane('status')", "Status", show=False, id="pane1"),
        Binding("2", "focus_pane('graphs')", "Graphs", show=False, id="pane2"),
        Binding("3", "focus_pane('capabilities')", "Caps", show=False, id="pane3"),
        Binding("4", "focus_pane('parameters')", "Params", show=False, id="pane4"),
        Binding("5", "focus_pane('events')", "Events", show=False, id="pane5"),
        Binding("6", "focus_pane('tools')", "Tools", show=False, id="pane6"),
        Binding("7", "focus_pane('console')", "Console", show=False, id="pane7"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="ctrl-c"),
    ]

    def __init__(self, backend_factory: BackendFactory | None = None, *, theme: str | None = None,
                 title: str = "qmigtui"):
        super().__init__()
        self.backend_factory = backend_factory
        self.backend: Backend | None = None
        self.snapshot: Snapshot | None = None
        self.current_pane = "status"
        self.sub_title = title
        self.startup_error: str | None = None
        self._latest: Snapshot | None = None
        self._frame_pending = False
        self._last_frame = 0.0
        self._allowed: tuple[object, ...] = ()
        self.staged = False
        self.exercise_result: Verdict | None = None
        self._exercise_from = 0
        self._exercise_started = 0.0
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
        yield Static("connecting…", id="topline")
        with Container(id="panes"):
            for pane_id, title in PANES:
                widget = {"status": StatusPane, "graphs": GraphsPane,
                          "capabilities": CapabilitiesPane, "parameters": ParametersPane,
                          "events": EventsPane, "tools": ToolsPane,
                          "console": ConsolePane}[pane_id](id=pane_id, classes="pane")
                widget.border_title = title
                yield widget
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for problem in self.theme_problems:
            self.notify(problem, severity="warning", timeout=15)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if not self.is_headless:  # an SSH disconnect (SIGHUP) or SIGTERM quits cleanly
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGTERM, lambda: self.run_worker(self.action_quit()))
            loop.add_signal_handler(signal.SIGHUP, self._hang_up)
        self._apply_layout()
        self.query_one("#status").add_class("-current")
        if self.backend_factory is not None:
            self.open_backend()
        self.set_interval(0.5, self._tick_replay)

    def _tick_replay(self) -> None:
        """A replay's clock moves between snapshots: keep its position on the top line fresh."""
        if self._player() is not None and self.snapshot is not None:
            self._set_topline(self._topline(self.snapshot))

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size.width, event.size.height)

    def _apply_layout(self, width: int | None = None, height: int | None = None) -> None:
        width = self.size.width if width is None else width
        height = self.size.height if height is None else height
        wide = width >= WIDE[0] and height >= WIDE[1]
        self.set_class(wide, "-wide")
        self.set_class(not wide, "-narrow")

    # -- backend --------------------------------------------------------------

    @work(exclusive=True, group="backend", exit_on_error=False)
    async def open_backend(self) -> None:
        assert self.backend_factory is not None
        try:
            backend = await asyncio.wait_for(self.backend_factory(), 120)
        except Exception as e:  # shown, not raised: the app must not die on a bad endpoint
            self.startup_error = str(e) or type(e).__name__
            self.query_one("#topline", Static).update(f"cannot start: {self.startup_error}")
            self.notify(self.startup_error, severity="error", timeout=30)
            return
        self.attach(backend)

    def attach(self, backend: Backend) -> None:
        """Start rendering what a backend's watcher publishes."""
        self.backend = backend
        self.query_one(ConsolePane).commands = backend.tools.commands
        if backend.scenario is not None:
            self.run_worker(self._stage(backend), exit_on_error=False)
        self.query_one(StatusPane).lab_note = backend.lab_note if backend.rig else None
        backend.watcher.subscribe(self._on_snapshot)
        self.apply_snapshot(backend.watcher.snapshot)

    def _on_snapshot(self, snap: Snapshot) -> None:
        try:
            self._take_snapshot(snap)
        except Exception as e:  # a bug must end the app loudly (and cleanly), not freeze it
            self._handle_exception(e)

    def _take_snapshot(self, snap: Snapshot) -> None:
        """Render at once after a quiet spell; in a burst (a replay at speed, an event flood)
        at most every MIN_FRAME seconds, always ending on the latest snapshot; a change of
        state is drawn at once."""
        self._latest = snap
        shown = self.snapshot
        changed = shown is None or [s.status for s in shown.sides] != [s.status for s in snap.sides]
        wait = self._last_frame + MIN_FRAME - time.monotonic()
        if changed or wait <= 0:  # a new state is drawn at once, whatever the burst
            self._frame()
        elif self._frame_pending:
            return
        else:
            self._frame_pending = True
            self.set_timer(wait, self._timed_frame)

    def _timed_frame(self) -> None:
        self._frame_pending = False
        self._frame()

    def _frame(self) -> None:
        self._last_frame = time.monotonic()
        if self._latest is not None:
            self.apply_snapshot(self._latest)

    def apply_snapshot(self, snap: Snapshot) -> None:
        """Render one Snapshot in every pane and the status line."""
        self.snapshot = snap
        self.query_one(StatusPane).show(snap)
        self.query_one(GraphsPane).show(snap)
        self.query_one(CapabilitiesPane).show(snap)
        self.query_one(ParametersPane).show(snap)
        self.query_one(EventsPane).show(snap)
        self.query_one(ToolsPane).show(snap)
        self._set_topline(self._topline(snap))
        allowed = (snap.read_only, self.has_class("-narrow"),
                   tuple((s.status, s.connection, s.capabilities.get("postcopy-ram")) for s in snap.sides))
        if allowed != self._allowed:  # the footer is rebuilt only when what is allowed may change,
            self._allowed = allowed    # and after the new state is on screen (it costs a frame)
            self.call_after_refresh(self.refresh_bindings)

    def _set_topline(self, text: str) -> None:
        if text != self._topline_text:
            self._topline_text = text
            self.query_one("#topline", Static).update(text, layout=False)

    def _topline(self, snap: Snapshot) -> str:
        parts = []
        for side in snap.sides:
            state = side.status if side.connected else side.connection
            parts.append(f"{side.name}: {state}")
        flags = []
        player = self.backend.player if self.backend is not None else None
        if player is not None:
            paused = self.backend is not None and player.paused
            flags.append(f"REPLAY {player.position:.1f} s ×{player.speed:g}" + (" PAUSED" if paused else ""))
            if player.warning:
                flags.append(player.warning)
        elif snap.read_only:
            flags.append("READ-ONLY")
        if snap.lab:
            backend = self.backend
            if backend is not None and backend.exercise is not None:
                flags.append(f"EXERCISE {backend.exercise.name}")
            elif backend is not None and backend.scenario is not None:
                flags.append(f"LAB: {backend.scenario.name}")
            else:
                flags.append("LAB")
        if any(s.connected and s.capabilities.get("events") is False for s in snap.sides):
            flags.append("events off: turn on 'events' in 3")
        return "  ·  ".join(parts + flags)

    async def _close_backend(self) -> None:
        if self.backend is not None:
            backend, self.backend = self.backend, None
            await backend.close()

    def _theme_changed(self, theme: Any) -> None:
        """A theme picked in the palette is the one the next start uses (an explicit --theme
        is for one run only)."""
        if self._remember_theme:
            themes.remember(theme.name)

    def _hang_up(self) -> None:
        """The terminal is gone (an SSH drop): let go of QEMU first, then leave; with nothing to
        draw on, the exit is not left waiting for the screen."""
        backend = self.backend
        if backend is not None and backend.rig is not None:
            backend.rig.lab.stop()
        if backend is not None and backend.recorder is not None:
            backend.recorder.close()
        self.run_worker(self.action_quit())
        # with no terminal the driver can block the main thread for good: a timer thread ends it
        watchdog = threading.Timer(HANGUP_GRACE, os._exit, (129,))
        watchdog.daemon = True
        watchdog.start()

    async def action_quit(self) -> None:
        await self._close_backend()
        self.exit(0)

    # -- actions ----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        replaying = self.backend is not None and self.backend.player is not None
        if action == "lab_fault":
            return self.backend is not None and self.backend.rig is not None  # lab only
        if action in REPLAY_ACTIONS:
            return replaying  # hidden unless replaying
        if replaying and action in (*MIGRATION_ACTIONS, "advice", "measure"):
            return False  # a recording cannot be acted on
        if action in MIGRATION_ACTIONS:
            if self.backend is None:
                return None
            if self.backend.controller.can(action).ok:
                return True
            return False if self.has_class("-narrow") else None  # 80 columns: hide, do not grey
        return True

    def action_focus_pane(self, pane_id: str) -> None:
        for pane in self.query(".pane"):
            pane.set_class(pane.id == pane_id, "-current")
        self.current_pane = pane_id
        self.set_class(pane_id == "tools", "-show-tools")
        self.set_class(pane_id == "console", "-show-console")
        target = self.query_one("#console-input") if pane_id == "console" else self.query_one(f"#{pane_id}")
        target.focus()

    def action_help(self) -> None:
        lines = [f"{b.key:<10} {b.description}" for b in self.BINDINGS if isinstance(b, Binding)]
        self.notify("\n".join(lines) + "\nctrl+p    every action (command palette)",
                    title="Keys", timeout=15)

    def action_filter_events(self) -> None:
        events = self.query_one(EventsPane)

        def done(text: str | None) -> None:
            if text is not None:
                events.set_filter(text)
                self.action_focus_pane("events")
        self.push_screen(AskText("Show events containing:", events.filter), done)

    def _explain(self, action: str) -> bool:
        if self.backend is None:
            self.notify("not connected yet", severity="warning")
            return False
        permission = self.backend.controller.can(action)
        if not permission.ok:
            self.notify(f"{action}: {permission.why}", severity="warning")
        return permission.ok

    def _run(self, key: str, make: Callable[[], Awaitable[Any]], done: str) -> None:
        assert self.backend is not None
        controller = self.backend.controller

        async def go() -> None:
            try:
                await controller.once(key, make())
            except ControlError as e:
                self.notify(str(e), severity="error", timeout=10)
                return
            self.notify(done)
        self.run_worker(go(), group=key, exit_on_error=False)

    def _confirm_then(self, action: str, question: str, detail: str,
                      make: Callable[[], Awaitable[Any]], done: str) -> None:
        if not self._explain(action):
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(action, make, done)
        self.push_screen(Confirm(question, detail), answered)

    def action_migrate(self) -> None:
        if not self._explain("migrate"):
            return
        assert self.backend is not None
        controller = self.backend.controller
        lab = controller.lab_link
        default = lab.migrate_uri if lab is not None else "tcp:DEST-HOST:4444"

        def chosen(uri: str | None) -> None:
            if not uri:
                return
            if uri.startswith("exec:"):
                def confirmed(yes: bool | None) -> None:
                    if yes:
                        self._start(uri)
                self.push_screen(Confirm("QEMU will run this command on the source host:", uri[5:]),
                                 confirmed)
                return
            self._start(uri)
        self.push_screen(StartMigration(default, controller.has_side("destination")), chosen)

    def _start(self, uri: str) -> None:
        assert self.backend is not None
        controller = self.backend.controller
        self._run("migrate", lambda: controller.start_migration(uri), f"migration started to {uri}")

    def action_postcopy(self) -> None:
        assert self.backend is not None
        c = self.backend.controller
        self._confirm_then("postcopy", "Switch to postcopy?",
                           "The guest resumes on the destination; from then on a network failure "
                           "pauses it until recovered.\nsends: migrate-start-postcopy",
                           c.start_postcopy, "switched to postcopy")

    def action_pause(self) -> None:
        assert self.backend is not None
        c = self.backend.controller
        self._confirm_then("pause", "Pause the postcopy migration?",
                           "sends: migrate-pause (source); recover with r", c.pause, "pause sent")

    def action_recover(self) -> None:
        assert self.backend is not None
        c = self.backend.controller
        plan = "\n".join(c.recovery_plan())
        if not c.has_side("destination"):
            self.notify("Recovery needs the destination too. Run there, then here:\n" + plan,
                        title="Recover", timeout=60)
            return
        self._confirm_then("recover", "Recover the paused postcopy? In this order:", plan,
                           c.recover, "recovery sent; watch for postcopy-active")

    def action_continue(self) -> None:
        assert self.backend is not None
        c = self.backend.controller
        if self._explain("continue"):
            self._run("continue", c.continue_, "continue sent")

    def action_cancel(self) -> None:
        assert self.backend is not None
        c = self.backend.controller
        self._confirm_then("cancel", "Cancel the migration?",
                           "The guest keeps running on the source.\nsends: migrate_cancel",
                           c.cancel, "cancel sent")

    # -- lab: scenarios, exercises, fault keys ------------------------------------------

    async def _stage(self, backend: Backend) -> None:
        scenario = backend.scenario
        assert scenario is not None and backend.rig is not None
        self.notify(f"staging '{scenario.name}': {scenario.summary}", timeout=10)
        try:
            await scenario.stage(backend.rig)
        except (ControlError, TimeoutError, LabError) as e:
            self.notify(f"scenario {scenario.name}: {e}", severity="error", timeout=30)
            return
        self.staged = True
        exercise = backend.exercise
        if exercise is None:
            self.notify(f"scenario '{scenario.name}' is ready", timeout=10)
            return
        self._exercise_from = backend.audit.lines if backend.audit is not None else 0
        self._exercise_started = time.monotonic()
        self.notify(f"EXERCISE {exercise.name}: {exercise.task}", title="Your task", timeout=60)
        self.set_interval(0.5, self._judge)

    def _trainee_actions(self) -> list[dict[str, Any]]:
        backend = self.backend
        if backend is None or backend.audit is None:
            return []
        return audit_log.read(backend.audit.path)[self._exercise_from:]

    def _judge(self) -> None:
        backend = self.backend
        if backend is None or backend.exercise is None or self.exercise_result is not None \
                or self.snapshot is None:
            return
        exercise = backend.exercise
        actions = self._trainee_actions()
        verdict = exercise.judge(self.snapshot, actions)
        took = time.monotonic() - self._exercise_started
        if not verdict.done and took > exercise.limit_s:
            verdict = Verdict(True, False, f"not done within {exercise.limit_s:.0f} s")
        if verdict.done:
            self.exercise_result = verdict
            text = exercise_summary(exercise, verdict, took, actions)
            self.push_screen(Confirm("Exercise over" if verdict.passed else "Exercise failed", text))

    def action_lab_fault(self, fault: str) -> None:
        backend = self.backend
        if backend is None or backend.rig is None:
            return
        rig = backend.rig
        if fault == "cut":
            rig.lab.cut_link()
            self.notify("lab: link cut (connections reset, new ones refused)", severity="warning")
        elif fault == "restore":
            rig.lab.restore_link()
            self.notify("lab: link restored")
        elif fault == "kill":
            rig.lab.kill("destination")
            self.notify("lab: destination QEMU killed", severity="warning")
        elif fault == "guest":
            def chosen(text: str | None) -> None:
                if not text:
                    return
                try:
                    ws, rate = (float(x) for x in text.replace(",", " ").split())
                except ValueError:
                    self.notify("write: WORKING-SET-MIB RATE-MIB/S, e.g. 64 40", severity="error")
                    return

                async def restart() -> None:
                    try:
                        await rig.new_guest(ws, rate)
                    except LabError as e:
                        self.notify(f"lab: {e}", severity="error")
                        return
                    self.notify(f"lab: new guest, {ws:g} MiB working set at {rate:g} MiB/s")
                self.run_worker(restart(), exit_on_error=False)
            config = rig.lab.config
            self.push_screen(AskText("lab: guest working set (MiB) and dirty rate (MiB/s); both "
                                     "QEMUs restart", f"{config.working_set_mib:g} "
                                     f"{config.dirty_rate_mib_s:g}"), chosen)

    # -- replay ---------------------------------------------------------------------

    def _player(self) -> ReplayControl | None:
        return self.backend.player if self.backend is not None else None

    def _replay_changed(self, note: str) -> None:
        if self.snapshot is not None:
            self._set_topline(self._topline(self.snapshot))
        self.notify(note, timeout=3)

    def action_replay_pause(self) -> None:
        if (player := self._player()) is not None:
            self._replay_changed("paused" if player.toggle_pause() else "playing")

    def action_replay_speed(self, step: int) -> None:
        if (player := self._player()) is not None:
            self._replay_changed(f"speed ×{player.faster(step):g}")

    def action_replay_next(self) -> None:
        if (player := self._player()) is not None:
            status = player.next_state_change()
            self._replay_changed(f"at {player.position:.1f} s: {status}" if status else "end of recording")

    def action_replay_jump(self) -> None:
        player = self._player()
        if player is None:
            return

        def chosen(text: str | None) -> None:
            if not text:
                return
            try:
                target = units.parse_duration_ms(text) / 1000
            except ValueError as e:
                self.notify(str(e), severity="error")
                return
            if target < player.position:
                self.notify(f"a replay only goes forward (now at {player.position:.1f} s)",
                            severity="warning")
                return
            self._replay_changed(f"at {player.jump_to(target):.1f} s")
        self.push_screen(AskText("Jump to (seconds from the start, e.g. 90s or 2m):", ""), chosen)

    # -- forecast: reasoning, remedies, measuring --------------------------------

    def action_explain(self) -> None:
        snap = self.snapshot
        if self.backend is None or snap is None or snap.forecast is None:
            self.notify("not connected yet", severity="warning")
            return
        c = self.backend.controller
        plan = c.recovery_plan() if snap.forecast.verdict == "paused" else None
        view = ForecastView(snap.forecast, plan, snap.measurements)

        def picked(index: int | None) -> None:
            if index is not None and snap.forecast is not None:
                self.apply_advice(snap.forecast.advice[index])
        self.push_screen(view, picked)

    def action_advice(self) -> None:
        """Do the first remedy of the current verdict (after confirmation)."""
        f = self.snapshot.forecast if self.snapshot is not None else None
        tip = next((a for a in f.advice if a.action != "cancel"), None) if f is not None else None
        if tip is None:
            self.notify("no advice right now; e shows the reasoning", severity="information")
            return
        self.apply_advice(tip)

    def apply_advice(self, advice: Advice) -> None:
        """One remedy through the same guarded path as its key."""
        direct = {"postcopy": self.action_postcopy, "cancel": self.action_cancel,
                  "continue": self.action_continue, "recover": self.action_recover,
                  "pause": self.action_pause, "measure": self.action_measure}
        if advice.action in direct:
            direct[advice.action]()
            return
        controller = self._writable()
        if controller is None:
            return
        if advice.action == "set-parameter":
            detail = (f"{advice.why}\nsends: migrate-set-parameters "
                      f"{{\"{advice.target}\": {advice.value}}} (source)")
            make: Callable[[], Awaitable[Any]] = lambda: controller.set_parameter(  # noqa: E731
                "source", advice.target, str(advice.value))
            done = f"{advice.target} set to {advice.value}"
        elif advice.action == "capability":
            sides = list(controller.watcher.sides)
            detail = (f"{advice.why}\nsends: migrate-set-capabilities {advice.target}=on "
                      f"({', '.join(sides)})")

            async def make_caps() -> None:
                for side in sides:
                    await controller.set_capability(side, advice.target, True, check_peer=len(sides) == 1)
            make, done = make_caps, f"{advice.target} on"
        elif advice.action == "dirty-limit":
            detail = f"{advice.why}\nsends: set-vcpu-dirty-limit {{\"dirty-rate\": {advice.value}}} (source)"
            make = lambda: controller.set_dirty_limit(int(advice.value))  # noqa: E731
            done = f"vCPU dirty limit {advice.value} MB/s set"
        else:
            self.notify(f"{advice.label}: not an action here", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(f"advice:{advice.action}:{advice.target}", make, done)
        self.push_screen(Confirm(f"{advice.label}?", detail), answered)

    def action_measure(self) -> None:
        """calc-dirty-rate over a short window and one a first pass long (feeds the forecast)."""
        controller = self._writable()
        if controller is None:
            return
        src = controller.watcher.sides["source"].state
        if src.supported_commands and "calc-dirty-rate" not in src.supported_commands:
            self.notify("this QEMU has no calc-dirty-rate", severity="warning")
            return

        async def measure() -> None:
            results = await controller.measure_footprint()
            self.notify("dirty rate: " + ", ".join(
                f"{units.format_rate(r.bytes_per_s)} over {r.seconds:g} s" for r in results))
        self.notify("measuring the guest's dirty rate (page-sampling)…")
        self._run("measure", measure, "measurement done")

    # -- pane messages ----------------------------------------------------------

    def _writable(self) -> Controller | None:
        """The controller when changes may be sent; otherwise say why and return None."""
        if self.backend is None:
            return None
        if self.backend.watcher.read_only:
            self.notify("read-only mode: nothing sent", severity="warning")
            return None
        return self.backend.controller

    def on_capabilities_pane_toggle(self, message: CapabilitiesPane.Toggle) -> None:
        controller = self._writable()
        if controller is None:
            return

        async def toggle() -> None:
            for side in message.sides:
                await controller.set_capability(side, message.capability, message.state,
                                                check_peer=len(message.sides) == 1)
        state = "on" if message.state else "off"
        self._run(f"cap:{message.capability}", toggle,
                  f"{message.capability} {state} on {', '.join(message.sides)}")

    def on_parameters_pane_edit(self, message: ParametersPane.Edit) -> None:
        controller = self._writable()
        if controller is None:
            return

        def edited(text: str | None) -> None:
            if text is None:
                return
            self._run(f"param:{message.name}",
                      lambda: controller.set_parameter(message.side, message.name, text),
                      f"{message.name} set on {message.side}")
        self.push_screen(EditParameter(message.name, message.side, message.current), edited)

    # -- tools and console: any command of the schema --------------------------------

    def on_tools_pane_open(self, message: ToolsPane.Open) -> None:
        if self.backend is None:
            return
        if not self.backend.controller.has_side(message.side):
            self.notify(f"no {message.side} endpoint", severity="warning")
            return
        info = self.backend.tools.commands(message.side).get(message.command)
        if info is None and message.command == "query-migrationthreads":
            self.run_tool(message.side, message.command, {})  # read from /proc where QEMU runs here
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
        """Send one command of the schema (asking first when it ends or undoes something)."""
        if self.backend is None:
            return
        tools = self.backend.tools
        exact = json.dumps({"execute": command, "arguments": args} if args else {"execute": command})

        async def go() -> Any:
            if command == "calc-dirty-rate":
                r = await tools.controller.measure_dirty_rate(
                    int(args.get("calc-time", 1)), side, str(args.get("mode", "page-sampling")),
                    int(args.get("sample-pages", 4096)))
                return {"dirty-rate (bytes/s)": r.bytes_per_s, "window (s)": r.seconds, "mode": r.mode,
                        "per vCPU (bytes/s)": list(r.vcpus)}
            result = await tools.run(side, command, args)
            if command in JOB_COMMANDS:
                return await tools.follow_job(side, str(args.get("job-id")))
            if command == "query-migrationthreads":
                return [t.__dict__ for t in await tools.threads(side)]
            return result

        async def worker() -> None:
            try:
                result = await tools.controller.once(f"tool:{side}:{command}", go())
            except ControlError as e:
                self.notify(str(e), severity="error", timeout=10)
                if log is not None:
                    log(f"error: {e}")
                return
            if log is not None:
                log(result)
                return
            fetch = None
            if command.startswith("query-"):
                async def fetch() -> Any:
                    if command == "query-migrationthreads":
                        return [t.__dict__ for t in await tools.threads(side)]
                    return await tools.run(side, command, args)
            self.push_screen(ResultView(f"{command} ({side})", result, fetch))

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(worker(), exit_on_error=False)
        if command in DANGEROUS:
            self.push_screen(Confirm(f"Send {command} to the {side}?", f"sends: {exact}"), answered)
        else:
            self.run_worker(worker(), exit_on_error=False)

    def on_console_pane_submitted(self, message: ConsolePane.Submitted) -> None:
        console = self.query_one(ConsolePane)
        if self.backend is None:
            console.log_widget.write("not connected yet")
            return
        try:
            command, args = parse_line(message.text)
        except InputError as e:
            console.log_widget.write(f"not sent: {e}")
            return
        problems = self.backend.tools.problems(message.side, command, args)
        if problems:
            console.log_widget.write("not sent: " + "; ".join(problems))
            return
        self.run_tool(message.side, command, args,
                      log=lambda value: console.log_widget.write(render_result(command, value)))

    # -- command palette ----------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.action not in ("quit", "help"):
                action = binding.action
                yield SystemCommand(f"{binding.description} ({binding.key})",
                                    f"qmigtui: {action}",
                                    lambda a=action: self.run_action(a))
