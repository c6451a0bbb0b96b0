"""The autopilot: a policy steering one migration through the controller.

Engaging it is the one confirmation; then each snapshot becomes an Observation, the policy
decides, and what changes the VM goes out through the controller as the autopilot (audited
with ``"by": "autopilot"``). Every decision, wait included, goes to ``on_decision`` and to
the recording. With ``dry_run`` nothing that changes a VM is sent. A command the operator
sends (any entry point) makes it stand down.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qmigtui.control.ops import Controller
from qmigtui.control.outcomes import ControlError
from qmigtui.model.actor import ACTOR, AUTOPILOT, OPERATOR
from qmigtui.model.commands import is_query
from qmigtui.policy.decision import Act, Decision, Why
from qmigtui.policy.observation import Observation
from qmigtui.policy.presets import Preset
from qmigtui.watch.snapshot import Snapshot

STARTS = frozenset({"migrate", "migrate-incoming"})


@dataclass(frozen=True)
class Step:
    """A decision as taken: when (the observation's time), and what came of sending it
    (``None``: nothing was sent; ``"ok"``; or the one-line reason it was not done)."""

    t: float
    decision: Decision
    outcome: str | None = None

    def as_data(self) -> dict[str, Any]:
        """The step as a recording keeps it."""
        d = self.decision
        return {"t": self.t if math.isfinite(self.t) else None, "act": d.act.value,
                "why": d.why.value, "target": d.target, "value": d.value, "outcome": self.outcome,
                "numbers": {k: v if math.isfinite(v) else None for k, v in d.numbers}}


class Autopilot:
    def __init__(self, controller: Controller, policy: Preset, *, dry_run: bool = False,
                 on_step: Callable[[Step], None] | None = None):
        self.controller = controller
        self.policy = policy
        self.dry_run = dry_run
        self.on_step = on_step
        self.steps: list[Step] = []
        self.engaged = False
        self.stood_down: str | None = None  # the command an operator sent meanwhile
        self._wake = asyncio.Event()
        self._latest: Snapshot | None = None
        self._task: asyncio.Task[None] | None = None
        self._last: Decision | None = None

    # -- engaging ----------------------------------------------------------------

    def engage(self) -> None:
        if self.engaged:
            return
        self.engaged = True
        self.controller.watcher.subscribe(self._snapshot)
        self.controller.sent_hooks.append(self._sent)
        self._task = asyncio.create_task(self._run(), name="autopilot")

    def _let_go(self) -> None:
        self.engaged = False
        with contextlib.suppress(ValueError):
            self.controller.sent_hooks.remove(self._sent)

    async def disengage(self) -> None:
        self._let_go()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def prepare(self, timeout: float = 5.0) -> None:
        """What the policy sets before a migration starts (Proxmox's capabilities, our
        throttle cap and link), sent as the autopilot, once the source's parameters are read
        (a policy sets up from them)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.controller.watcher.snapshot.source.parameters is None and \
                asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        snap = self.controller.watcher.snapshot
        for decision in self.policy.setup(Observation.of(snap)):
            await self._take(snap.source.polled, decision)

    # -- running -----------------------------------------------------------------

    def _snapshot(self, snap: Snapshot) -> None:
        self._latest = snap
        self._wake.set()

    def _sent(self, command: str, actor: str) -> None:
        """Someone else steered (starting the migration is not steering it)."""
        if command in STARTS or actor != OPERATOR or is_query(command):
            return
        if self.engaged and self.stood_down is None:
            self.stood_down = command
            self._wake.set()

    async def _run(self) -> None:
        ACTOR.set(AUTOPILOT)  # this task's commands are the autopilot's
        seen = -1
        while self.engaged:
            await self._wake.wait()
            self._wake.clear()
            if self.stood_down is not None:
                self._record(Step(self._now(), Decision(Act.STAND_DOWN, Why.OPERATOR_ACTED,
                                                        self.stood_down)))
                self._let_go()
                return
            snap = self._latest
            if snap is None or snap.seq == seen:
                continue
            seen = snap.seq
            obs = Observation.of(snap)
            decision = self.policy.decide(obs)
            await self._take(obs.t, decision)
            if decision.act is Act.STAND_DOWN:
                self._let_go()

    async def _take(self, t: float, decision: Decision) -> None:
        if not decision.changes_vm:
            if self._last is None or decision.gist != self._last.gist:  # a wait said once
                self._record(Step(t, decision))
            self._last = decision
            return
        self._last = decision
        if self.dry_run:
            self._record(Step(t, decision, "dry run: not sent"))
            return
        token = ACTOR.set(AUTOPILOT)
        try:
            await self._send(decision)
            outcome = "ok"
        except ControlError as e:
            outcome = str(e)
        finally:
            ACTOR.reset(token)
        self._record(Step(t, decision, outcome))

    async def _send(self, d: Decision) -> None:
        c = self.controller
        if d.act is Act.SET_PARAMETER:
            await c.set_parameter("source", d.target, str(d.value))
        elif d.act is Act.SET_CAPABILITY:
            for side in c.watcher.sides:
                await c.set_capability(side, d.target, bool(d.value), check_peer=False)
        elif d.act is Act.POSTCOPY:
            await c.start_postcopy()
        elif d.act is Act.STOP_GUEST:
            await c.send("source", "stop")
        elif d.act is Act.ABORT:
            await c.cancel()
        elif d.act is Act.RECOVER:
            await c.recover()

    def _record(self, step: Step) -> None:
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def _now(self) -> float:
        snap = self._latest
        return Observation.of(snap).t if snap is not None else 0.0
