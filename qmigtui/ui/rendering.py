"""Rendering a desk: its snapshots drawn in every pane and the status line, at a pace that
keeps a state change immediate and a burst of numbers to one frame every MIN_FRAME."""

from __future__ import annotations

import functools
import time

from textual.actions import parse as parse_action

from qmigtui.desk.facade import Desk
from qmigtui.ui.app_base import AppBase
from qmigtui.ui.console_pane import ConsolePane
from qmigtui.ui.pane import Pane
from qmigtui.ui.status_pane import StatusPane
from qmigtui.ui.topline import topline
from qmigtui.watch.snapshot import Snapshot

MIN_FRAME = 0.05  # seconds between renders when snapshots come in a burst
GATHER = 0.03  # seconds new numbers wait for the other side's answer to the same poll


class Rendering(AppBase):
    """Draws the snapshots of the desk shown."""

    _watched: set[int]  # ids of the desks whose snapshots this app listens to
    _told: set[str]  # problems already notified
    _latest: Snapshot | None
    _frame_pending: bool
    _last_frame: float
    _allowed: tuple[object, ...]

    def attach(self, desk: Desk) -> None:
        """Start rendering what a desk publishes."""
        self.desk = desk
        self.query_one(ConsolePane).commands = desk.commands
        status = self.query_one(StatusPane)
        status.lab_note = desk.lab_note if desk.is_lab else None
        status.hints = self.hints
        self._watched.add(id(desk))
        self.listen(desk)
        self.apply_snapshot(desk.snapshot)

    def _on_snapshot(self, snap: Snapshot) -> None:
        try:
            self._take_snapshot(snap)
        except Exception as e:  # a bug must end the app loudly (and cleanly), not freeze it
            self._handle_exception(e)

    def _take_snapshot(self, snap: Snapshot) -> None:
        """A change of state is drawn at once, the status pane and the status line first (in a
        frame of their own) and the other panes MIN_FRAME seconds later.  New numbers wait GATHER
        seconds for the other side's answer to the same poll (one frame, not two), and in a
        burst (a replay at speed, an event flood) at most one frame every MIN_FRAME seconds,
        always ending on the latest snapshot."""
        self._latest = snap
        shown = self.snapshot
        if shown is None or [s.status for s in shown.sides] != [s.status for s in snap.sides]:
            self.snapshot = snap
            self._last_frame = time.monotonic()
            self.query_one(StatusPane).show(snap, at_once=True)
            self._set_topline(topline(snap, self.desk))
            if not self._frame_pending:
                self._frame_pending = True
                self.set_timer(MIN_FRAME, self._timed_frame)
        elif not self._frame_pending:
            self._frame_pending = True
            self.set_timer(max(GATHER, self._last_frame + MIN_FRAME - time.monotonic()),
                           self._timed_frame)

    def _timed_frame(self) -> None:
        self._frame_pending = False
        self._last_frame = time.monotonic()
        if self._latest is not None:
            self.apply_snapshot(self._latest)

    def apply_snapshot(self, snap: Snapshot) -> None:
        """Render one Snapshot in every pane and the status line."""
        self.snapshot = snap
        for pane in self._panes():
            pane.show(snap)
        for problem in self.desk.problems() if self.desk is not None else ():
            if problem not in self._told:  # said at once; the status line keeps saying it
                self._told.add(problem)
                self.notify(problem, severity="error", timeout=30)
        self._set_topline(topline(snap, self.desk))
        # the footer is rebuilt (a dozen widgets mounted anew) only when a key it shows comes,
        # goes or greys out, and after the new state is on screen
        allowed = tuple(self.check_action(a, ()) for a in self._actions())
        if allowed != self._allowed:
            self._allowed = allowed
            self.call_after_refresh(self.refresh_bindings)

    def _actions(self) -> tuple[str, ...]:
        """Every action a key is bound to (whether each applies may change with a snapshot);
        worked out once per app class, not on every frame."""
        return _bound_actions(type(self))

    def listen(self, desk: Desk) -> None:
        """Take this desk's snapshots while it is the one shown."""
        desk.subscribe(lambda snap: self._on_snapshot(snap) if self.desk is desk else None)

    def _panes(self) -> list[Pane]:
        return [pane for pane in self.query(".pane").results() if isinstance(pane, Pane)]


@functools.cache
def _bound_actions(app: type[AppBase]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(parse_action(b.action)[1] for b in app.all_bindings()))
