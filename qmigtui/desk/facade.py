"""The Desk: the one object the UI drives, with the verbs it needs and nothing to reach through.

Reading (the snapshot, what a side supports), acting (can, and each guarded
action), the lab's fault keys, a scenario's staging and an exercise's judging,
and letting go.  Every failure reaches the UI as an ``ActionError`` whose type says what became
of it (control/outcomes.py: ``NoAnswer`` may have been applied, ``Refused`` carries QEMU's words).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from qmigtui.control import measure
from qmigtui.control.audit import AuditLog
from qmigtui.control.ops import Controller
from qmigtui.control.outcomes import ControlError
from qmigtui.control.outcomes import NoAnswer as NoAnswer  # the UI tells these apart
from qmigtui.control.outcomes import Refused as Refused
from qmigtui.control.rig import Rig
from qmigtui.control.rules import CHANGE as CHANGE
from qmigtui.control.rules import Permission
from qmigtui.control.tools import Tools
from qmigtui.desk.autopilot_desk import AutopilotDesk
from qmigtui.lab.pair import LabError
from qmigtui.lab.workloads import WORKLOADS
from qmigtui.model import cpr, recovery
from qmigtui.model.commands import CommandInfo
from qmigtui.model.recovery import RecoveryAddresses
from qmigtui.qmp.errors import QmpError
from qmigtui.record.recorder import Recorder
from qmigtui.training.exercises import Exercise, ExerciseResult, ExerciseRun
from qmigtui.training.scenarios import Scenario
from qmigtui.watch.snapshot import DirtyRate, SideState, Snapshot
from qmigtui.watch.watcher import Watcher

ActionError = ControlError  # the one error the UI catches: str() is one line for the operator
T = TypeVar("T")
LAB_FAULTS = {  # key name -> what the operator is told when it is done
    "cut": "lab: link cut (connections reset, new ones refused)",
    "restore": "lab: link restored",
    "kill": "lab: destination QEMU killed",
}


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
    @property
    def length(self) -> float | None: ...
    @property
    def at_end(self) -> bool: ...
    def toggle_pause(self) -> bool: ...
    def faster(self, step: int = 1) -> float: ...
    def jump_to(self, position: float) -> float: ...
    def next_state_change(self) -> str | None: ...


@dataclass
class Backend:
    """What a Desk is made of; front ends, tests and benches may look inside, the UI does not."""

    watcher: Watcher
    controller: Controller
    rig: Rig | None = None
    recorder: Recorder | None = None
    audit: AuditLog | None = None
    player: ReplayControl | None = None
    scenario: Scenario | None = None
    exercise: Exercise | None = None
    closers: list[Callable[[], Any]] = field(default_factory=list)


STOP_S = 3.0  # seconds a lab's QEMUs get to end on SIGTERM before SIGKILL
FAST_STOP_S = 0.3  # the same after a hang-up


class Desk:
    """Watch and drive one migration: the UI's only way to what it shows and changes."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self._watcher = backend.watcher
        self._controller = backend.controller
        self._rig = backend.rig
        self.exercise_run: ExerciseRun | None = None
        self.autopilot = AutopilotDesk(backend.controller, backend.recorder)

    # -- reading ------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        return self._watcher.snapshot

    def subscribe(self, listener: Callable[[Snapshot], None]) -> None:
        self._watcher.subscribe(listener)

    def side(self, name: str) -> SideState | None:
        return self.snapshot.side(name)

    def has_side(self, name: str) -> bool:
        return self._controller.has_side(name)

    @property
    def read_only(self) -> bool:
        return self._watcher.read_only

    def supports(self, side: str, command: str) -> bool | None:
        """Whether this side's QEMU has a command (None while its schema is not read yet)."""
        state = self.side(side)
        if state is None or not state.supported_commands:
            return None
        return command in state.supported_commands

    def commands(self, side: str) -> dict[str, CommandInfo]:
        return self._tools.commands(side)

    def command_problems(self, side: str, command: str, args: dict[str, Any]) -> list[str]:
        return self._tools.problems(side, command, args)

    def problems(self) -> list[str]:
        """What keeps the record from being kept or a side from being read right now: a
        recording that stopped, an audit log that cannot be written, an answer too large to read
        (one line each, for as long as it lasts)."""
        found = [self.backend.recorder.error if self.backend.recorder is not None else None,
                 self.backend.audit.error if self.backend.audit is not None else None,
                 *(f"{s.name}: {s.problem}" for s in self.snapshot.sides if s.problem)]
        return [p for p in found if p]

    @property
    def player(self) -> ReplayControl | None:
        return self.backend.player

    @functools.cached_property
    def _tools(self) -> Tools:
        return Tools(self._controller)

    # -- acting -------------------------------------------------------------------

    def can(self, action: str) -> Permission:
        """Whether a migration action (migrate, cancel, postcopy, pause, recover, continue) is
        allowed now, and if not, why."""
        return self._controller.can(action)

    async def once(self, key: str, work: Awaitable[T]) -> T:
        """Run an action unless the same one is still running (a double press sends once)."""
        result: T = await self._controller.once(key, work)
        return result

    @property
    def manager_peer(self) -> str | None:
        """Where the source's manager (libvirt) sends the VM, for a VM whose manager prepares the
        destination itself (\"\" when none was given); None for QEMU watched over QMP."""
        traits = self._watcher.sides["source"].session.traits
        return (traits.peer_uri or "") if traits.manages_incoming else None

    async def start_migration(self, uri: str, exit_on_error: bool | None = None,
                              request: cpr.StartRequest | None = None) -> str:
        """Start a migration to ``uri``; ``request`` carries the migration mode where the
        source offers modes (cpr-transfer's channel, cpr-exec's command)."""
        return await self._controller.start_migration(uri or None, exit_on_error=exit_on_error,
                                                      cpr_request=request)

    @property
    def migration_modes(self) -> tuple[str, ...]:
        """The migration modes the source's QEMU offers (empty: it has none, or libvirt)."""
        schema = self._watcher.schema("source")
        return schema.migration_modes if schema is not None and self.manager_peer is None else ()

    @property
    def migration_mode(self) -> str:
        """The source's migration mode as last read (normal when it has none)."""
        params = self._watcher.snapshot.source.parameters
        return (params.text("mode") if params is not None else None) or cpr.NORMAL

    @property
    def incoming_exit_on_error(self) -> bool:
        """Whether the destination's migrate-incoming takes exit-on-error (its schema says)."""
        if not self.has_side("destination"):
            return False
        schema = self._watcher.schema("destination")
        return schema is not None and schema.command_arg("migrate-incoming", "exit-on-error") is not None

    async def start_postcopy(self) -> None:
        await self._controller.start_postcopy()

    async def pause(self) -> None:
        await self._controller.pause()

    async def continue_(self) -> None:
        await self._controller.continue_()

    async def cancel(self) -> None:
        await self._controller.cancel()

    def recovery_addresses(self) -> RecoveryAddresses:
        """Where the destination listens again and the source connects to, as far as known."""
        return self._controller.recovery_addresses()

    def recovery_plan(self) -> list[str]:
        return self._controller.recovery_plan()

    async def recover(self, addresses: RecoveryAddresses | None = None) -> None:
        await self._controller.recover(addresses)

    async def set_capability(self, side: str, capability: str, state: bool, check_peer: bool = True
                             ) -> bool:
        return await self._controller.set_capability(side, capability, state, check_peer)

    async def set_capability_everywhere(self, capability: str, state: bool) -> None:
        """The same capability on every side, in turn (each side checked alone)."""
        sides = list(self._watcher.sides)
        for side in sides:
            await self._controller.set_capability(side, capability, state, check_peer=len(sides) == 1)

    async def set_parameter(self, side: str, name: str, text: str) -> Any:
        return await self._controller.set_parameter(side, name, text)

    async def set_dirty_limit(self, rate_mib_s: int) -> None:
        await self._controller.set_dirty_limit(rate_mib_s)

    async def measure_footprint(self) -> list[DirtyRate]:
        return await measure.footprint(self._controller)

    def raw_note(self, side: str, command: str, args: dict[str, Any]) -> str | None:
        """What sending this raw command does beyond itself (a domain under libvirt: tainted)."""
        sides = self._watcher.sides
        return sides[side].session.raw_note(command, args) if side in sides else None

    async def run_command(self, side: str, command: str, args: dict[str, Any]) -> Any:
        """Any command of the schema, checked against it; queries go straight to QEMU."""
        return await self._tools.run(side, command, args)

    async def follow_job(self, side: str, job_id: str) -> dict[str, Any]:
        return await self._tools.follow_job(side, job_id)

    async def run_tool(self, side: str, command: str, args: dict[str, Any]) -> Any:
        """A command as the Tools pane and the console send it (control/tools.py run_tool)."""
        return await self._tools.run_tool(side, command, args)

    def needs_no_form(self, command: str) -> bool:
        return self._tools.needs_no_form(command)

    # -- the lab ------------------------------------------------------------------

    @property
    def is_lab(self) -> bool:
        return self._rig is not None

    @property
    def suggested_migrate_uri(self) -> str:
        """A real address for the start dialog: the lab's link, the destination's host (the
        host its monitor is reached at: tcp or ssh), this host when both monitors are local
        (unix sockets here), else "" (the operator types it)."""
        if self._rig is not None:
            return str(self._rig.lab.migrate_uri)
        if not self.has_side("destination"):
            return ""
        ends = [self._watcher.sides[n].session.traits for n in ("source", "destination")]
        if ends[1].host:
            return recovery.start_uri(ends[1].host)
        here = all(e.same_machine for e in ends)
        return recovery.start_uri("127.0.0.1" if here else None)

    @property
    def lab_migrate_uri(self) -> str | None:
        return str(self._rig.lab.migrate_uri) if self._rig is not None else None

    @property
    def lab_guest(self) -> tuple[float, float] | None:
        """The lab guest's working set (MiB) and dirty rate (MiB/s)."""
        if self._rig is None:
            return None
        config = self._rig.lab.config
        return config.working_set_mib, config.dirty_rate_mib_s

    @property
    def lab_workload(self) -> str | None:
        """The Linux guest's workload (None for the tiny guest, or outside the lab)."""
        if self._rig is None or not self._rig.lab.config.linux:
            return None
        return self._rig.lab.config.workload

    @property
    def lab_workloads(self) -> tuple[str, ...]:
        """The workloads the Linux guest can run."""
        return tuple(WORKLOADS)

    def lab_note(self, side: str) -> str:
        """The last thing a lab QEMU said on stderr (QEMU 7.2 gives pause reasons only there)."""
        if self._rig is None:
            return ""
        lines = [ln for ln in self._rig.lab.log(side).splitlines() if ln.strip()]
        return lines[-1] if lines else ""

    def lab_fault(self, fault: str) -> str:
        """Cut or restore the link, or kill the destination; returns what was done."""
        if self._rig is None:
            raise ActionError("not a lab")
        lab = self._rig.lab
        {"cut": lab.cut_link, "restore": lab.restore_link,
         "kill": lambda: lab.kill("destination")}[fault]()
        return LAB_FAULTS[fault]

    async def new_guest(self, working_set_mib: float, dirty_rate_mib_s: float,
                        workload: str | None = None) -> None:
        """Both lab QEMUs again, with a guest of another working set and dirty rate (or, the
        Linux guest, another workload)."""
        if self._rig is None:
            raise ActionError("not a lab")
        try:
            await self._rig.new_guest(working_set_mib, dirty_rate_mib_s, workload=workload)
        except (LabError, ValueError) as e:
            raise ActionError(f"lab: {e}") from None

    # -- training -----------------------------------------------------------------

    @property
    def scenario(self) -> Scenario | None:
        return self.backend.scenario

    @property
    def exercise(self) -> Exercise | None:
        return self.backend.exercise

    async def stage(self, on_over: Callable[[ExerciseResult, str], None]) -> None:
        """Bring the lab to the scenario's state; then, for an exercise, judge from now on."""
        scenario = self.backend.scenario
        if scenario is None or self._rig is None:
            raise ActionError("no scenario to stage")
        try:
            await scenario.stage(self._rig)
        except (ControlError, TimeoutError, LabError) as e:
            raise ActionError(f"scenario {scenario.name}: {e}") from None
        if self.backend.exercise is not None:
            self.exercise_run = ExerciseRun(self.backend.exercise, self._watcher, self._controller,
                                            on_over)

    # -- letting go ---------------------------------------------------------------

    async def close(self) -> None:
        """Stop watching, close the sessions, stop a lab, close the recording."""
        backend = self.backend
        await self.autopilot.disengage()  # nothing more is sent once the desk closes
        try:
            if self._rig is not None:
                await self._rig.close()
            else:
                with contextlib.suppress(QmpError):
                    await self._watcher.close()
        finally:
            for closer in backend.closers:
                result = closer()
                if hasattr(result, "__await__"):
                    await result
            if backend.recorder is not None:
                backend.recorder.close()

    def let_go(self, fast: bool = False) -> None:
        """Without a loop to close sessions on (a hang-up, or after the app ended): let go of
        the monitors, stop a lab's QEMUs (``fast``: killed after a moment, a hang-up must not
        wait) and close the recording, at once."""
        self._watcher.drop_connections()
        if self._rig is not None:
            self._rig.lab.stop(grace=FAST_STOP_S if fast else STOP_S)
        if self.backend.recorder is not None:
            self.backend.recorder.close()
