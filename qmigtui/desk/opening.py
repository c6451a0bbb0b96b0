"""Opening what the app watches (endpoints given by the operator, a lab pair, or a recording)
into a Desk."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from qmigtui.control.audit import AuditLog
from qmigtui.control.auto_measure import AutoMeasure
from qmigtui.control.ops import Controller
from qmigtui.control.rig import Rig
from qmigtui.desk.facade import Backend, Desk
from qmigtui.lab.pair import LabConfig
from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.session import Session, connect_all
from qmigtui.qmp.sessions import pair_problem, session_for
from qmigtui.record.recorder import Recorder, closed_on_failure
from qmigtui.record.replay import Player
from qmigtui.training.exercises import EXERCISES
from qmigtui.training.scenarios import SCENARIOS
from qmigtui.watch.watcher import Watcher


def _extras(record: str | Path | None, audit: str | Path | None, no_audit: bool = False,
            append: bool = False) -> tuple[Recorder | None, AuditLog | None]:
    """Open the recording and the audit log before anything connects (one-line OSError if not)."""
    recorder = Recorder(record, append=append) if record else None
    log = None if no_audit else AuditLog(audit)
    return recorder, log


def _finish(backend: Backend) -> Desk:
    log = backend.audit
    if log is not None:
        log.endpoints = {n: s.session.traits.address for n, s in backend.watcher.sides.items()}
        backend.controller.audit_hooks.append(log)
        backend.controller.guards.append(
            lambda: None if log.writable else f"{log.error} (start with --no-audit to act "
                                              "without an audit log)")
        _ = log.writable  # the session's first line, now: a disk that is full is said at once
    if backend.recorder is not None:  # what was sent, and by whom, kept in the recording too
        backend.controller.audit_hooks.append(backend.recorder.sent)
    backend.closers.append(AutoMeasure(backend.controller).close)
    return Desk(backend)


async def open_endpoints(endpoints: list[tuple[str, str]], interval: float, read_only: bool,
                         record: str | Path | None = None, audit: str | Path | None = None,
                         no_audit: bool = False, append: bool = False, monitor: bool = False) -> Desk:
    """Connect to the given endpoints (name, text) and start watching them (``monitor``: raw
    QMP through libvirt allowed, for domains under libvirt)."""
    parsed = {name: parse_endpoint(text) for name, text in endpoints}
    if (problem := pair_problem(parsed["source"], parsed.get("destination"))) is not None:
        raise ValueError(problem)
    recorder, log = _extras(record, audit, no_audit, append)
    sessions = [session_for(ep, name, read_only=read_only, monitor=monitor,
                            peer=parsed.get("destination") if name == "source" else None)
                for name, ep in parsed.items()]
    if recorder is not None:
        for s in sessions:
            recorder.attach(s)
    with closed_on_failure(recorder):
        await connect_all(sessions)
    watcher = Watcher(sessions, interval)
    await watcher.start()
    return _finish(Backend(watcher, Controller(watcher), recorder=recorder, audit=log))


async def open_lab(config: LabConfig, interval: float, read_only: bool = False,
                   record: str | Path | None = None, audit: str | Path | None = None,
                   no_audit: bool = False, scenario: str | None = None, exercise: str | None = None,
                   append: bool = False,
                   **rig_options: Any) -> Desk:
    """Start a lab pair and watch it (``rig_options``: capabilities, parameters for Rig.start).

    With a scenario (or an exercise, which names one) its lab configuration is used and the
    app stages it once it is up.
    """
    chosen_exercise = EXERCISES[exercise] if exercise else None
    name = chosen_exercise.scenario if chosen_exercise else scenario
    chosen = SCENARIOS[name] if name else None
    if chosen is not None:  # the scenario's link, memory and settings; a Linux guest if asked
        config = chosen.config if not config.linux else replace(
            chosen.config, guest="linux", workload=config.workload,
            mem_mib=max(config.mem_mib, chosen.config.mem_mib))
        rig_options.setdefault("capabilities", chosen.capabilities)
        rig_options.setdefault("parameters", chosen.parameters)
    recorder, log = _extras(record, audit, no_audit, append)
    with closed_on_failure(recorder):
        rig = await Rig.start(config, interval, read_only=read_only,
                              prepare=recorder.attach if recorder is not None else None, **rig_options)
    return _finish(Backend(rig.watcher, rig.controller, rig, recorder=recorder, audit=log,
                           scenario=chosen, exercise=chosen_exercise))


async def open_replay(path: str | Path, speed: float = 1.0, interval: float = 1.0) -> Desk:
    """Watch a recording as if its QEMUs were there (read-only)."""
    player = Player(str(path), speed)
    sessions: list[Session] = list(player.sessions.values())
    for s in sessions:
        await s.connect()
    watcher = Watcher(sessions, interval)
    player.on_rewind(watcher.reset)
    await watcher.start()
    player.start_playing()
    backend = Backend(watcher, Controller(watcher), player=player)
    backend.closers.append(player.stop)
    return Desk(backend)
