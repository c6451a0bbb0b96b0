"""The forecast's keys: e (why), a (the first remedy), D (measure the dirty rate)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from qmigtui.analysis.forecast import Advice
from qmigtui.model import units
from qmigtui.ui.dialogs import Confirm
from qmigtui.ui.forecast_view import ForecastView
from qmigtui.ui.migration_keys import MigrationKeys


class AdviceKeys(MigrationKeys):
    """The forecast's keys: e (why), a (the first remedy), D (measure the dirty rate)."""

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
