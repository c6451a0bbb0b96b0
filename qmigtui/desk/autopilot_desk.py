"""The autopilot as a desk offers it: a policy to show before engaging (its objectives and
every act it may take), engaging it (the one confirmation), letting it go, and its steps."""

from __future__ import annotations

from collections.abc import Callable

from qmigtui.control.autopilot import Autopilot
from qmigtui.control.autopilot import Step as Step  # what the UI is told of each decision
from qmigtui.control.ops import Controller
from qmigtui.policy.catalog import make
from qmigtui.policy.presets import Preset
from qmigtui.record.recorder import Recorder


class AutopilotDesk:
    def __init__(self, controller: Controller, recorder: Recorder | None = None):
        self._controller = controller
        self._recorder = recorder
        self._pilot: Autopilot | None = None
        self._listeners: list[Callable[[Step], None]] = []
        self.steps: list[Step] = []
        self.name = ""  # the policy engaged last

    @staticmethod
    def policy(name_or_file: str) -> Preset:
        """A fresh policy by name or policy file; ValueError with one line."""
        return make(name_or_file)

    @property
    def engaged(self) -> Preset | None:
        pilot = self._pilot
        return pilot.policy if pilot is not None and pilot.engaged else None

    def on_step(self, listener: Callable[[Step], None]) -> None:
        self._listeners.append(listener)

    def engage(self, policy: Preset, dry_run: bool = False) -> None:
        """Start steering (the caller asked first: engaging is the one confirmation)."""
        if self.engaged is not None:
            return
        self.name = policy.name
        self._pilot = Autopilot(self._controller, policy, dry_run=dry_run, on_step=self._step)
        self._pilot.engage()

    async def prepare(self) -> None:
        """What the engaged policy sets before a migration starts."""
        if self._pilot is not None:
            await self._pilot.prepare()

    async def disengage(self) -> None:
        pilot, self._pilot = self._pilot, None
        if pilot is not None:
            await pilot.disengage()

    def _step(self, step: Step) -> None:
        self.steps.append(step)
        if self._recorder is not None:
            self._recorder.decision(step.as_data())
        for listener in list(self._listeners):
            listener(step)
