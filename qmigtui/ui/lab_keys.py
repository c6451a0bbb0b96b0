"""Lab mode: staging a scenario, showing an exercise's result, the fault keys."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding

from qmigtui.desk.facade import ActionError, Desk
from qmigtui.training.exercises import ExerciseResult
from qmigtui.ui.app_base import AppBase, actions_of
from qmigtui.ui.dialogs import AskText, Confirm
from qmigtui.ui.status_pane import StatusPane


class LabKeys(AppBase):
    """Lab mode: staging a scenario, showing an exercise's result, the fault keys."""

    BINDINGS = [
        Binding("exclamation_mark", "lab_fault('cut')", "lab: cut the link", show=False, id="lab-cut"),
        Binding("at", "lab_fault('restore')", "lab: restore the link", show=False, id="lab-restore"),
        Binding("number_sign", "lab_fault('kill')", "lab: kill the destination", show=False,
                id="lab-kill"),
        Binding("dollar_sign", "lab_fault('guest')", "lab: new guest (working set, rate)", show=False,
                id="lab-guest"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in actions_of(LabKeys):
            return self.desk is not None and self.desk.is_lab  # a lab's only
        return super().check_action(action, parameters)

    staged: bool
    exercise_result: ExerciseResult | None

    async def _stage(self, desk: Desk) -> None:
        scenario = desk.scenario
        assert scenario is not None
        self.notify(f"staging '{scenario.name}': {scenario.summary}", timeout=10)
        try:
            await desk.stage(self._exercise_over)
        except ActionError as e:
            self.notify(str(e), severity="error", timeout=30, markup=False)
            return
        self.staged = True
        exercise = desk.exercise
        if exercise is None:
            self.notify(f"scenario '{scenario.name}' is ready", timeout=10)
            return
        self.notify(f"your task: {exercise.task}")
        status = self.query_one(StatusPane)
        status.exercise_task = exercise.task  # stays on screen, not only in a toast
        if self.snapshot is not None:
            status.show(replace(self.snapshot, seq=self.snapshot.seq))

    def _exercise_over(self, result: ExerciseResult, summary: str) -> None:
        """The exercise's judge has spoken: show what was done, and keep the result."""
        self.exercise_result = result
        self.push_screen(Confirm("Exercise over" if result.passed else "Exercise failed", summary))

    def action_lab_fault(self, fault: str) -> None:
        desk = self.desk
        if desk is None or not desk.is_lab:
            return
        if fault != "guest":
            done = desk.lab_fault(fault)
            self.notify(done, severity="information" if fault == "restore" else "warning")
            return

        workload = desk.lab_workload
        ws, rate = desk.lab_guest or (0.0, 0.0)

        def chosen(text: str | None) -> None:
            if not text:
                return
            name = text.strip() if workload is not None else None
            if workload is None:
                try:
                    new_ws, new_rate = (float(x) for x in text.replace(",", " ").split())
                except ValueError:
                    self.notify("write: WORKING-SET-MIB RATE-MIB/S, e.g. 64 40", severity="error")
                    return
            else:
                new_ws, new_rate = ws, rate

            async def restart() -> None:
                try:
                    await desk.new_guest(new_ws, new_rate, workload=name)
                except ActionError as e:
                    self.notify(str(e), severity="error", markup=False)
                    return
                self.notify(f"lab: the Linux guest now runs {name}" if name else
                            f"lab: new guest, {new_ws:g} MiB working set at {new_rate:g} MiB/s")
            self.run_worker(restart(), exit_on_error=False)
        if workload is not None:
            self.push_screen(AskText(f"lab: Linux guest workload ({', '.join(desk.lab_workloads)}); "
                                     "both QEMUs restart", workload), chosen)
            return
        self.push_screen(AskText("lab: guest working set (MiB) and dirty rate (MiB/s); both "
                                 "QEMUs restart", f"{ws:g} {rate:g}"), chosen)
