"""The forecast's keys: e (why), a (the first remedy), D (measure the dirty rate)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from textual.binding import Binding

from qmigtui.analysis.verdict import Advice, AdviceAction, Forecast, Verdict
from qmigtui.desk.facade import Desk
from qmigtui.model import parameters as parammodel
from qmigtui.ui.app_base import actions_of
from qmigtui.ui.dialogs import Confirm
from qmigtui.ui.forecast_view import ForecastView
from qmigtui.ui.forecast_words import explain, remedy_label, remedy_why
from qmigtui.ui.migration_keys import MigrationKeys


def sent_json(desk: Desk, advice: Advice) -> str:
    """The literal migrate-set-parameters arguments a remedy sends (typed as QEMU's schema
    types them: "24M" goes as 25165824)."""
    qtype = desk.snapshot.source.parameter_types.get(advice.target)
    try:
        value = parammodel.parse_input(advice.target, str(advice.value), qtype)
    except ValueError:
        value = advice.value
    return f"migrate-set-parameters {json.dumps({advice.target: value})}"


class AdviceKeys(MigrationKeys):
    """The forecast's keys: e (why), a (the first remedy), D (measure the dirty rate)."""

    BINDINGS = [
        Binding("a", "advice", "Advice", id="advice"),
        Binding("e", "explain", "Why", id="explain"),
        Binding("D", "measure", "Measure dirty rate", id="measure", show=False),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A remedy or a measurement changes the VM: not on a recording."""
        if action in actions_of(AdviceKeys) and action != "explain":
            return not (self.desk is not None and self.desk.player is not None)
        return super().check_action(action, parameters)

    def action_explain(self) -> None:
        snap = self.snapshot
        if self.desk is None or snap is None or snap.forecast is None:
            self.notify("not connected yet", severity="warning")
            return
        plan = self.desk.recovery_plan() if snap.forecast.verdict is Verdict.PAUSED else None
        view = ForecastView(snap.forecast, plan, snap.measurements, remedies=self.hints)

        def picked(index: int | None) -> None:
            if index is not None and snap.forecast is not None:
                self.apply_advice(snap.forecast.advice[index], snap.forecast)
        self.push_screen(view, picked)

    def action_advice(self) -> None:
        """Do the first remedy of the current verdict (after confirmation)."""
        if not self.hints:
            self.notify("hints are off: find the way yourself (e still shows the numbers)")
            return
        f = self.snapshot.forecast if self.snapshot is not None else None
        tip = f.first_remedy if f is not None else None
        if f is None or tip is None:
            self.notify("no advice right now; e shows the reasoning", severity="information")
            return
        self.apply_advice(tip, f)

    def apply_advice(self, advice: Advice, forecast: Forecast) -> None:
        """One remedy through the same guarded path as its key."""
        direct = {AdviceAction.POSTCOPY: self.action_postcopy, AdviceAction.CANCEL: self.action_cancel,
                  AdviceAction.CONTINUE: self.action_continue, AdviceAction.RECOVER: self.action_recover,
                  AdviceAction.PAUSE: self.action_pause, AdviceAction.MEASURE: self.action_measure}
        if advice.action in direct:
            direct[advice.action]()
            return
        desk = self._writable()
        if desk is None:
            return
        make: Callable[[], Awaitable[Any]]
        if advice.action is AdviceAction.SET_PARAMETER:
            why = remedy_why(advice, forecast, self.key_for)
            detail = f"{why}\nsends: {sent_json(desk, advice)} (source)"
            make = lambda: desk.set_parameter("source", advice.target, str(advice.value))  # noqa: E731
            done = f"{advice.target} set to {advice.value}"
        elif advice.action is AdviceAction.CAPABILITY:
            sides = [s.name for s in desk.snapshot.sides]
            why = remedy_why(advice, forecast, self.key_for)
            detail = (f"{why}\nsends: migrate-set-capabilities {advice.target}=on "
                      f"({', '.join(sides)})")
            make = lambda: desk.set_capability_everywhere(advice.target, True)  # noqa: E731
            done = f"{advice.target} on"
        elif advice.action is AdviceAction.DIRTY_LIMIT:
            detail = (f"{remedy_why(advice, forecast, self.key_for)}\nsends: set-vcpu-dirty-limit "
                      f"{json.dumps({'dirty-rate': advice.value})} (source)")
            make = lambda: desk.set_dirty_limit(int(advice.value))  # noqa: E731
            done = f"vCPU dirty limit {advice.value} MB/s set"
        else:
            self.notify(f"{remedy_label(advice)}: not an action here", severity="warning", markup=False)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(f"advice:{advice.action}:{advice.target}", make, done)
        self.push_screen(Confirm(f"{remedy_label(advice)}?", detail), answered)

    def action_measure(self) -> None:
        """calc-dirty-rate over a short window and one a first pass long (feeds the forecast)."""
        desk = self._writable()
        if desk is None:
            return
        if desk.supports("source", "calc-dirty-rate") is False:
            self.notify("this QEMU has no calc-dirty-rate", severity="warning")
            return

        async def measure() -> None:
            results = await desk.measure_footprint()
            self.notify(explain([(r.seconds, r.bytes_per_s) for r in results]), timeout=10, markup=False)
        self.notify("measuring the guest's dirty rate (page-sampling)…")
        self._run("measure", measure, "measurement done")
