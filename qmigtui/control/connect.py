"""Opening what the app watches: endpoints given by the operator, a lab pair, or a recording."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from qmigtui.control.audit import AuditLog
from qmigtui.control.ops import Controller
from qmigtui.control.rig import Rig
from qmigtui.control.scenarios import EXERCISES, SCENARIOS, Exercise, Scenario
from qmigtui.control.tools import Tools
from qmigtui.lab.pair import LabConfig
from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.errors import QmpError
from qmigtui.qmp.session import Session, connect_all
from qmigtui.record.recorder import Recorder
from qmigtui.record.replay import Player
from qmigtui.watch.watcher import Watcher


class ReplayControl(Protocol):
    """What the app may do to a replay: the Player, seen from above."""

    @property
    def position(self) -> float: ...
    @property
    def speed(self) -> float: ...
    @property
    def paused(self) -> bool: ...
    @property
    def warning(self) -> str | None: ...
    def toggle_pause(self) -> bool: ...
    def faster(self, step: int = 1) -> float: ...
    def jump_to(self, position: float) -> float: ...
    def next_state_change(self) -> str | None: ...


@dataclass
class Backend:
    """What the app drives: a watcher and its controller, plus how to let them go."""

    watcher: Watcher
    controller: Controller
    rig: Rig | None = None
    lab_tools: dict[str, Callable[[], object]] = field(default_factory=dict)
    recorder: Recorder | None = None
    audit: AuditLog | None = None
    player: ReplayControl | None = None
    scenario: Scenario | None = None
    exercise: Exercise | None = None
    _closers: list[Callable[[], Any]] = field(default_factory=list)

    @functools.cached_property
    def tools(self) -> Tools:
        """Any command of the schema: forms, the console, jobs, threads."""
        return Tools(self.controller)

    def lab_note(self, side: str) -> str:
        """The last thing a lab QEMU said on stderr (QEMU 7.2 gives pause reasons only there)."""
        if self.rig is None:
            return ""
        lines = [ln for ln in self.rig.lab.log(side).splitlines() if ln.strip()]
        return lines[-1] if lines else ""

    async def close(self) -> None:
        try:
            if self.rig is not None:
                await self.rig.close()
            else:
                with contextlib.suppress(QmpError):
                    await self.watcher.close()
        finally:
            for closer in self._closers:
                result = closer()
                if hasattr(result, "__await__"):
                    await result
            if self.recorder is not None:
                self.recorder.close()


def _extras(record: str | Path | None, audit: str | Path | None, no_audit: bool = False
            ) -> tuple[Recorder | None, AuditLog | None]:
    """Open the recording and the audit log before anything connects (one-line OSError if not)."""
    recorder = Recorder(record) if record else None
    log = None if no_audit else AuditLog(audit)
    return recorder, log


def _finish(backend: Backend) -> Backend:
    if backend.audit is not None:
        backend.audit.endpoints = {n: str(s.session.endpoint) for n, s in backend.watcher.sides.items()}
        backend.controller.audit_hooks.append(backend.audit)
    return backend


async def open_endpoints(endpoints: list[tuple[str, str]], interval: float, read_only: bool,
                         record: str | Path | None = None, audit: str | Path | None = None,
                         no_audit: bool = False) -> Backend:
    """Connect to the given endpoints (name, text) and start watching them."""
    recorder, log = _extras(record, audit, no_audit)
    sessions = [Session(parse_endpoint(text), name, read_only=read_only) for name, text in endpoints]
    if recorder is not None:
        for s in sessions:
            recorder.attach(s)
    try:
        await connect_all(sessions)
    except BaseException:
        if recorder is not None:
            recorder.close()
        raise
    watcher = Watcher(sessions, interval)
    await watcher.start()
    return _finish(Backend(watcher, Controller(watcher), recorder=recorder, audit=log))


async def open_lab(config: LabConfig, interval: float, read_only: bool = False,
                   record: str | Path | None = None, audit: str | Path | None = None,
                   no_audit: bool = False, scenario: str | None = None, exercise: str | None = None,
                   **rig_options: Any) -> Backend:
    """Start a lab pair and watch it (``rig_options``: capabilities, parameters for Rig.start).

    With a scenario (or an exercise, which names one) its lab configuration is used and the
    app stages it once it is up.
    """
    chosen_exercise = EXERCISES[exercise] if exercise else None
    name = chosen_exercise.scenario if chosen_exercise else scenario
    chosen = SCENARIOS[name] if name else None
    if chosen is not None:
        config = chosen.config
        rig_options.setdefault("capabilities", chosen.capabilities)
        rig_options.setdefault("parameters", chosen.parameters)
    recorder, log = _extras(record, audit, no_audit)
    try:
        rig = await Rig.start(config, interval, read_only=read_only,
                              prepare=recorder.attach if recorder is not None else None, **rig_options)
    except BaseException:
        if recorder is not None:
            recorder.close()
        raise
    return _finish(Backend(rig.watcher, rig.controller, rig, recorder=recorder, audit=log,
                           scenario=chosen, exercise=chosen_exercise))


async def open_replay(path: str | Path, speed: float = 1.0, interval: float = 1.0) -> Backend:
    """Watch a recording as if its QEMUs were there (read-only)."""
    player = Player(str(path), speed)
    sessions: list[Session] = list(player.sessions.values())
    for s in sessions:
        await s.connect()
    watcher = Watcher(sessions, interval)
    await watcher.start()
    player.start_playing()
    backend = Backend(watcher, Controller(watcher), player=player)
    backend._closers.append(player.stop)
    return backend
