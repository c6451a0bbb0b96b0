"""Start the app on endpoints or on a lab pair, and always let go of them on the way out."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qmigtui.cli.exporter import metered
from qmigtui.desk.opening import open_endpoints, open_lab, open_replay
from qmigtui.lab.pair import LabConfig
from qmigtui.ui.app import MigrationApp

if TYPE_CHECKING:
    from qmigtui.metrics.exporter import Exporter


def run(app: MigrationApp) -> int:
    """Run the app; its exit status, with one line for a crash or a start that failed."""
    try:
        code = app.run()
    finally:
        app.let_go()  # the app's loop is gone: stop a lab synchronously
    if app.crash:
        print(app.crash, file=sys.stderr)
        return 1
    if app.startup_error:
        print(f"qmigtui: {app.startup_error}")
        return 2
    return code or 0


def run_monitor(endpoints: list[tuple[str, str]], *, interval: float, read_only: bool,
                theme: str | None, record: str | None = None, audit: str | None = None,
                append: bool = False, no_audit: bool = False, monitor: bool = False,
                keys: Mapping[str, Any] | None = None, autopilot: str | None = None,
                metrics: Exporter | None = None) -> int:
    title = " → ".join(text for _, text in endpoints)
    opener = metered(lambda: open_endpoints(endpoints, interval, read_only, record, audit,
                                            no_audit=no_audit, append=append, monitor=monitor),
                     metrics, _vm_name(endpoints[0][1]), dict(endpoints))
    return run(MigrationApp(opener, theme=theme, title=title, keys=keys, autopilot=autopilot))


def _vm_name(source: str) -> str:
    from qmigtui.desk.fleet import expand
    return expand([source], {})[0].name


def run_lab(config: LabConfig, *, interval: float, theme: str | None, record: str | None = None,
            audit: str | None = None, scenario: str | None = None, exercise: str | None = None,
            read_only: bool = False, append: bool = False, no_audit: bool = False,
            hints: bool = True, keys: Mapping[str, Any] | None = None,
            autopilot: str | None = None, metrics: Exporter | None = None) -> int:
    title = (f"lab: {config.mem_mib} MiB guest, {config.working_set_mib:g} MiB working set "
             f"at {config.dirty_rate_mib_s:g} MiB/s")
    if config.linux:
        title = f"lab: {config.mem_mib} MiB Linux guest running {config.workload}"
    if scenario or exercise:
        title = f"lab {'exercise' if exercise else 'scenario'}: {exercise or scenario}"
    opener = metered(lambda: open_lab(config, interval, read_only=read_only, record=record, audit=audit,
                                      scenario=scenario, exercise=exercise, append=append,
                                      no_audit=no_audit), metrics, "lab", {"source": "lab"})
    app = MigrationApp(opener, theme=theme, title=title, hints=hints, keys=keys, autopilot=autopilot)
    code = run(app)
    if app.exercise_result is not None:
        print(f"exercise {exercise}: {'passed' if app.exercise_result.passed else 'failed'} - "
              f"{app.exercise_result.why}")
        return code or (0 if app.exercise_result.passed else 1)
    return code


def run_replay(path: str | Path, *, speed: float, theme: str | None,
               keys: Mapping[str, Any] | None = None) -> int:
    return run(MigrationApp(lambda: open_replay(path, speed), theme=theme,
                             title=f"replay: {Path(path).name}", keys=keys))
