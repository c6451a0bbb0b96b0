"""The autopilot on a desk: A engages it (after showing its objectives and every act it may
take: the one confirmation) and disengages it; each act it takes is told and kept in the
message log (l); its latest decision is the status pane's plan line."""

from __future__ import annotations

from textual.binding import Binding

from qmigtui.desk.autopilot_desk import Step
from qmigtui.desk.facade import Desk
from qmigtui.policy.decision import Act
from qmigtui.policy.presets import Preset
from qmigtui.ui.app_base import AppBase, actions_of
from qmigtui.ui.autopilot_words import decision_text, objectives_text
from qmigtui.ui.dialogs import Confirm
from qmigtui.ui.events_pane import EventsPane
from qmigtui.ui.status_pane import StatusPane


class AutopilotKeys(AppBase):
    BINDINGS = [Binding("A", "autopilot", "Autopilot", id="autopilot", show=False)]

    autopilot_policy = "qmigtui"  # the policy A engages (--autopilot NAME|FILE chooses another)
    _told_steps: set[int]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in actions_of(AutopilotKeys):
            desk = self.desk
            return desk is not None and desk.player is None and not desk.read_only
        return super().check_action(action, parameters)

    def action_autopilot(self) -> None:
        desk = self.desk
        if desk is None:
            return
        if (engaged := desk.autopilot.engaged) is not None:
            async def off() -> None:
                await desk.autopilot.disengage()
                self._plan(f"autopilot {engaged.name}: disengaged")
                self.notify(f"autopilot {engaged.name} disengaged: nothing more is sent by it")
            self.run_worker(off(), exit_on_error=False)
            return
        try:
            policy = desk.autopilot.policy(self.autopilot_policy)
        except ValueError as e:
            self.notify(str(e), severity="error")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.engage_autopilot(policy)
        self.push_screen(Confirm(f"Engage the autopilot ({policy.name})? It then acts without "
                                 "asking, each act audited as the autopilot's; A again lets go.",
                                 "\n".join(objectives_text(policy.objectives))), answer)

    def engage_autopilot(self, policy: Preset) -> None:
        """Engage ``policy`` on the desk shown (asked for already, or given on the command line)."""
        desk = self.desk
        if desk is None:
            return
        self.follow_autopilot(desk)
        desk.autopilot.engage(policy)
        self._plan(f"autopilot {policy.name}: engaged")
        self.notify(f"autopilot {policy.name} engaged")

    def follow_autopilot(self, desk: Desk) -> None:
        """Tell and show the steps of this desk's autopilot (once per desk; a fleet's VM may
        have had one engaged since it was opened)."""
        if not getattr(self, "_told_steps", None):
            self._told_steps = set()
        if id(desk) in self._told_steps:
            return
        self._told_steps.add(id(desk))
        desk.autopilot.on_step(lambda step: self._step(step) if self.desk is desk else None)
        if (engaged := desk.autopilot.engaged) is not None:
            last = desk.autopilot.steps[-1].decision if desk.autopilot.steps else None
            self._plan(f"autopilot {engaged.name}: {decision_text(last)}" if last else
                       f"autopilot {engaged.name}: engaged")

    def _step(self, step: Step) -> None:
        name = self.desk.autopilot.name if self.desk is not None else ""
        d = step.decision
        text = f"autopilot {name}: {decision_text(d)}"
        self._plan(text)
        if d.changes_vm or d.act is Act.STAND_DOWN:
            failed = step.outcome not in (None, "ok")
            told = text + (f" ({step.outcome})" if failed else "")
            self.notify(told, severity="warning" if failed or d.act is Act.STAND_DOWN else "information")
            for events in self.query(EventsPane):  # none while the fleet's screen is shown
                events.note(told)  # every act kept on screen, with its reason

    def _plan(self, text: str) -> None:
        for status in self.query(StatusPane):  # none while the fleet's screen is shown
            status.plan = text
