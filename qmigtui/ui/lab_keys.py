"""Lab mode: staging a scenario, judging an exercise, the fault keys."""

from __future__ import annotations

import time
from typing import Any

from qmigtui.control import audit as audit_log
from qmigtui.control.connect import Backend
from qmigtui.control.ops import ControlError
from qmigtui.control.scenarios import Verdict
from qmigtui.control.scenarios import summary as exercise_summary
from qmigtui.lab.pair import LabError
from qmigtui.ui.desk import DeskBase
from qmigtui.ui.dialogs import AskText, Confirm


class LabKeys(DeskBase):
    """Lab mode: staging a scenario, judging an exercise, the fault keys."""

    staged: bool
    exercise_result: Verdict | None
    _exercise_from: int
    _exercise_started: float

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
