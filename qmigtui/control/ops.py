"""The migration actions: start, cancel, postcopy, pause, recover, continue, set config.

Whether an action is allowed is control/rules.py's (pure, over a Snapshot). Each action
re-checks the state just before sending, raises a typed ``ControlError`` (control/outcomes.py:
not allowed, refused with QEMU's own ``desc``, no answer, unreachable) and reads back what it
changed. Every mutating command goes through ``Controller.send``, where the
audit hook sees it with QEMU's answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from qmigtui.control import rules
from qmigtui.control.outcomes import ControlError, NoAnswer, NotAllowed, Refused, Unreachable
from qmigtui.control.readback import outcome_of
from qmigtui.control.rules import STARTABLE, Permission
from qmigtui.control.wiring import Wiring
from qmigtui.model import capabilities as capmodel
from qmigtui.model import cpr, recovery
from qmigtui.model import parameters as parammodel
from qmigtui.model.actor import ACTOR
from qmigtui.model.records import parse_list, parse_record
from qmigtui.model.recovery import RecoveryAddresses
from qmigtui.model.states import (
    CANCELLABLE,
    CONTINUABLE,
    PAUSABLE,
    RECOVERING,
)
from qmigtui.qmp.errors import CommandRejected, CommandTimeout, NotConnected, QmpError, ReadOnlyRefused
from qmigtui.qmp.session import ConnState
from qmigtui.watch.snapshot import Snapshot
from qmigtui.watch.watcher import Watcher

AuditHook = Callable[[str, str, dict[str, Any] | None, str], None]


class Controller:
    """Actions on the sessions a Watcher owns."""

    def __init__(self, watcher: Watcher, audit: AuditHook | None = None):
        self.watcher = watcher
        self.audit_hooks: list[AuditHook] = [audit] if audit else []
        self.guards: list[Callable[[], str | None]] = []  # a reason to send nothing, or None
        self._checks: set[asyncio.Task[None]] = set()  # read-backs after a command timed out
        self._busy: set[str] = set()
        self.wiring: Wiring | None = None  # a pair whose addresses a relay decides (the lab's)
        self.source_uri: str | None = None  # what the source was started with, when seen
        self.sent_hooks: list[Callable[[str, str], None]] = []  # (command, actor) once sent
        if "source" in watcher.sides:
            watcher.session("source").hub.add_tap(self._saw_command)

    # -- plumbing ----------------------------------------------------------

    @property
    def peer_managed(self) -> bool:
        """The source's session prepares the destination and recovers with its own migrate
        call (its manager does: libvirt), so no step is sent to the destination from here."""
        return self.watcher.sides["source"].session.traits.manages_incoming

    def has_side(self, name: str) -> bool:
        return name in self.watcher.sides

    def status(self, side: str) -> str:
        return self.watcher.sides[side].state.status if self.has_side(side) else "none"

    async def fresh_status(self, side: str, reconnect_wait: float = 5.0) -> str:
        """Ask QEMU now (actions re-check state just before sending).

        A monitor that is reconnecting (QEMU 7.2's destination drops it now and then when a
        postcopy link breaks) is waited for a few seconds rather than failing the action.
        """
        deadline = time.monotonic() + reconnect_wait
        session = self.watcher.session(side)
        while True:
            try:
                raw = await session.execute("query-migrate")
                break
            except NotConnected as e:
                if session.hub.state is not ConnState.RECONNECTING or time.monotonic() > deadline:
                    raise Unreachable(f"{side}: {e}") from None
                await asyncio.sleep(0.2)
            except QmpError as e:
                raise ControlError(f"{side}: {e}") from None
        return parse_record("MigrationInfo", raw).text("status") or "none"

    async def query(self, side: str, command: str, args: dict[str, Any] | None = None) -> Any:
        try:
            return await self.watcher.session(side).execute(command, args)
        except QmpError as e:
            raise ControlError(f"{side}: {e}") from None

    async def send(self, side: str, command: str, args: dict[str, Any] | None = None,
                   timeout: float | None = None) -> Any:
        """Send one mutating command; audit it with QEMU's answer; raise ControlError.

        Nothing is sent while a guard objects (an audit log that cannot be written)."""
        for guard in self.guards:
            if (why := guard()) is not None:
                raise NotAllowed(f"{why}; nothing sent")
        session = self.watcher.session(side)
        try:
            result = await session.execute(command, args, timeout=timeout)
        except CommandRejected as e:
            self._audit(side, command, args, f"error: {e.desc}")
            raise Refused(side, command, e.desc) from None
        except CommandTimeout as e:
            self._audit(side, command, args, f"no answer yet ({e}); what QEMU did is read back "
                                             "when it answers again")
            check = asyncio.create_task(self._read_back(side, command, args))
            self._checks.add(check)
            check.add_done_callback(self._checks.discard)
            raise NoAnswer(side, command) from None
        except ReadOnlyRefused:
            raise NotAllowed(f"{side}: {command}: {rules.READ_ONLY}") from None
        except QmpError as e:
            self._audit(side, command, args, f"not done: {e}")
            raise Unreachable(f"{side}: {e}") from None
        self._audit(side, command, args, "ok")
        for hook in self.sent_hooks:
            hook(command, ACTOR.get())
        self.watcher.poke(side)
        return result

    async def _read_back(self, side: str, command: str, args: dict[str, Any] | None,
                         patience: float = 300.0) -> None:
        """After a timeout: once QEMU answers again, read what the command changed and audit
        the outcome (a parameter QEMU applied late is not left logged as not done)."""
        deadline = time.monotonic() + patience
        while True:
            try:
                outcome = await outcome_of(self.watcher.session(side), command, args or {})
                break
            except QmpError:
                if time.monotonic() > deadline:
                    self._audit(side, command, args, "after the timeout: QEMU never answered again")
                    return
                await asyncio.sleep(1.0)
        self._audit(side, command, args, f"after the timeout: {outcome}")
        self.watcher.poke(side, config=True)

    def _audit(self, side: str, command: str, args: dict[str, Any] | None, answer: str) -> None:
        for hook in self.audit_hooks:
            hook(side, command, args, answer)

    async def once(self, key: str, coro: Any) -> Any:
        """Run an action unless the same one is still running (a double key press sends once)."""
        if key in self._busy:
            coro.close()
            raise ControlError(f"{key} is already in progress")
        self._busy.add(key)
        try:
            return await coro
        finally:
            self._busy.discard(key)

    # -- what is allowed now ----------------------------------------------------

    def can(self, action: str) -> Permission:
        """Whether ``action`` is allowed by the state as last seen (control/rules.py)."""
        now = Snapshot(sides=tuple(s.state for s in self.watcher.sides.values()), events=(),
                       histories={}, read_only=self.watcher.read_only)
        return rules.permission(action, now)

    def _require(self, action: str) -> None:
        p = self.can(action)
        if not p.ok:
            raise NotAllowed(p.why)

    async def _recheck(self, action: str, side: str, allowed: tuple[str, ...]) -> str:
        """Require ``action`` by the last snapshot, then ask QEMU again just before sending.

        Returns the fresh status; raises ControlError when it left ``allowed`` meanwhile.
        """
        self._require(action)
        status = await self.fresh_status(side)
        if status not in allowed:
            raise NotAllowed(f"{side} is {status} now; nothing sent")
        return status

    # -- actions ------------------------------------------------------------

    async def start_migration(self, uri: str | None = None,
                              channels: list[dict[str, Any]] | None = None,
                              incoming_uri: str | None = None,
                              exit_on_error: bool | None = None,
                              cpr_request: cpr.StartRequest | None = None) -> str:
        """Start a migration; with a destination, run migrate-incoming there first (with
        ``exit-on-error`` when given: whether the destination QEMU exits if the incoming
        migration fails; QEMU 9.1+).  With ``cpr_request`` (where the source has migration
        modes), its mode is set first where it differs, and a CheckPoint-and-Restart mode
        leaves the destination alone (the new QEMU is started with its -incoming, or exec'd).

        Returns the URI the source was sent to.
        """
        await self._recheck("migrate", "source", STARTABLE)
        if uri and (wrong := recovery.problems(uri, connecting=True)):  # before anything is sent
            raise ControlError(f"{wrong[0]}; nothing sent")
        if self.peer_managed:  # the manager prepares the destination, and picks a URI if not given
            args: dict[str, Any] = {"uri": uri} if uri else {}
            await self.send("source", "migrate", args)
            return uri or "its manager's choice"
        if cpr_request is not None:
            return await self._start_with_mode(cpr_request, incoming_uri, exit_on_error)
        if self.has_side("destination"):
            uri = await self._prepare_incoming(uri, incoming_uri, exit_on_error)
        args = {"channels": channels} if channels else {"uri": uri}
        if not channels and not uri:
            raise ControlError("no URI given")
        await self.send("source", "migrate", args)
        return uri or "channels"

    async def _start_with_mode(self, request: cpr.StartRequest, incoming_uri: str | None,
                               exit_on_error: bool | None) -> str:
        """Set the source's migration mode where it differs, then start as the mode wants."""
        schema = self.watcher.schema("source")
        modes = schema.migration_modes if schema is not None else ()
        try:
            cpr.check(request, modes)
        except cpr.CprError as err:
            raise ControlError(f"{err}; nothing sent") from None
        current = None
        if modes:
            params = parse_record("MigrationParameters",
                                  await self.query("source", "query-migrate-parameters"))
            current = params.text("mode") or cpr.NORMAL
        uri = request.uri
        if request.mode == cpr.NORMAL and self.has_side("destination"):
            uri = await self._prepare_incoming(uri, incoming_uri, exit_on_error) or uri
        for command, args in cpr.steps(cpr.StartRequest(uri, request.mode, request.cpr_channel,
                                                        request.exec_command), current):
            await self.send("source", command, args)
        return uri

    async def _prepare_incoming(self, uri: str | None, incoming_uri: str | None,
                                exit_on_error: bool | None = None) -> str | None:
        extra = {"exit-on-error": exit_on_error} if exit_on_error is not None else {}
        dst_status = await self.fresh_status("destination")
        if dst_status not in ("none", "setup"):
            raise ControlError(f"destination is {dst_status}: start a fresh destination QEMU")
        if self.wiring is not None and self.wiring.owns(uri):
            return await self.wiring.prepare_incoming(self.send, self.query, dst_status, extra)
        if dst_status == "none":
            await self.send("destination", "migrate-incoming",
                            {"uri": incoming_uri or _listen_uri(uri), **extra})
        return uri

    async def cancel(self) -> None:
        await self._recheck("cancel", "source", CANCELLABLE)
        await self.send("source", "migrate_cancel")

    async def start_postcopy(self) -> None:
        await self._recheck("postcopy", "source", ("active",))
        await self.send("source", "migrate-start-postcopy")

    async def pause(self, side: str = "source") -> None:
        await self._recheck("pause", side, PAUSABLE)
        await self.send(side, "migrate-pause")

    async def continue_(self) -> None:
        status = await self._recheck("continue", "source", CONTINUABLE)
        await self.send("source", "migrate-continue", {"state": status})

    def recovery_addresses(self) -> RecoveryAddresses:
        """Both recovery steps' addresses as far as they are known (never a placeholder): the
        wiring's (the lab's), or the destination's listening address and the source's original URI."""
        if self.wiring is not None:
            return self.wiring.recovery_addresses()
        dst = self.watcher.sides.get("destination")
        info = dst.state.info if dst is not None else None
        return recovery.suggest(info.children("socket-address") if info is not None else [],
                                self.source_uri)

    def recovery_plan(self, addresses: RecoveryAddresses | None = None) -> list[str]:
        """The exact steps to recover a paused postcopy, as QMP commands, in order."""
        steps = recovery.qmp_steps(addresses or self.recovery_addresses())
        return [f"destination: {steps['destination']}", f"source: {steps['source']}"]

    def _check_recovery(self, addresses: RecoveryAddresses) -> None:
        found = []
        if self.has_side("destination"):
            found += recovery.problems(addresses.listen, connecting=False)
        found += recovery.problems(addresses.connect, connecting=True)
        if found:
            raise ControlError(f"{found[0]}; nothing sent")

    async def recover(self, addresses: RecoveryAddresses | None = None, timeout: float = 30.0) -> None:
        """migrate-recover on the destination, then migrate resume on the source, guarded.

        Without a destination session only the source's step is sent (the operator ran the
        destination's elsewhere).  An address that is not real is refused before anything is
        sent.
        """
        self._require("recover")
        if self.peer_managed:
            await self._recheck("recover", "source", ("postcopy-paused",))
            await self.send("source", "migrate", {"resume": True} | (
                {"uri": addresses.connect} if addresses is not None else {}))
            return
        addresses = addresses or self.recovery_addresses()
        self._check_recovery(addresses)
        if self.wiring is not None:
            self.wiring.before_recover()  # the lab's first recovery step: the network works again
        src = await self.fresh_status("source")
        if self.has_side("destination"):
            await self._recover_destination(addresses.listen)
        deadline = time.monotonic() + timeout
        while src != "postcopy-paused":  # the source notices the broken link on its own
            if time.monotonic() > deadline:
                raise ControlError(f"source stayed {src}; it must be postcopy-paused to resume")
            await asyncio.sleep(0.2)
            src = await self.fresh_status("source")
        await self.send("source", "migrate", {"uri": addresses.connect, "resume": True})

    async def _recover_destination(self, listen: str) -> None:
        dst = await self.fresh_status("destination")
        if dst == "postcopy-paused":
            await self.send("destination", "migrate-recover", {"uri": listen})
        elif dst not in RECOVERING:
            raise ControlError(f"destination is {dst}, not postcopy-paused; nothing sent")

    def _saw_command(self, kind: str, msg: Any) -> None:
        """Remember the URI a migration was started with, whoever typed it (console, keys)."""
        if kind != "command" or not isinstance(msg, dict) or msg.get("execute") != "migrate":
            return
        args = msg.get("arguments")
        if isinstance(args, dict) and isinstance(args.get("uri"), str) and not args.get("resume"):
            self.source_uri = args["uri"]

    async def set_dirty_limit(self, rate_mib_s: int, cpu_index: int | None = None,
                              side: str = "source") -> None:
        """set-vcpu-dirty-limit for every vCPU (or one); QEMU refuses without KVM's dirty ring."""
        self._require(rules.CHANGE)
        if rate_mib_s < 1:
            raise ControlError(f"dirty limit {rate_mib_s} MB/s is out of range (>= 1); nothing sent")
        args: dict[str, Any] = {"dirty-rate": rate_mib_s}
        if cpu_index is not None:
            args["cpu-index"] = cpu_index
        await self.send(side, "set-vcpu-dirty-limit", args)

    async def set_capability(self, side: str, capability: str, state: bool,
                             check_peer: bool = True) -> bool:
        """Set a capability on one side; returns the state read back.

        ``check_peer=False`` when the caller changes every side in turn.
        """
        self._require(rules.CHANGE)
        sides = self.watcher.sides
        current = sides[side].state.capabilities
        other = next((s.state.capabilities for n, s in sides.items() if n != side), None)
        other = other if check_peer else None
        problems = capmodel.check_change(capability, state, current, other)
        if problems:
            raise ControlError(f"{capability}: {problems[0]}; nothing sent")
        await self.send(side, "migrate-set-capabilities",
                        {"capabilities": [{"capability": capability, "state": state}]})
        caps = parse_list("MigrationCapabilityStatus",
                          await self.query(side, "query-migrate-capabilities"))
        self.watcher.poke(side, config=True)
        actual = capmodel.capabilities_of(caps).get(capability)
        if actual != state:
            raise ControlError(f"{capability} reads back as {actual} on {side}")
        return actual

    async def set_parameter(self, side: str, name: str, text: str) -> Any:
        """Parse what a person typed, set it, read it back; nothing is sent when it is invalid."""
        self._require(rules.CHANGE)
        schema = self.watcher.schema(side)
        live = schema.parameters.get(name) if schema is not None else None
        try:
            value = parammodel.parse_input(name, text, live.type if live is not None else None)
        except ValueError as e:
            raise ControlError(f"{e}; nothing sent") from None
        await self.send(side, "migrate-set-parameters", {name: value})
        params = parse_record("MigrationParameters",
                              await self.query(side, "query-migrate-parameters"))
        self.watcher.poke(side, config=True)
        return params.values.get(name)


def _listen_uri(uri: str | None) -> str:
    """The address a destination listens on for a source that connects to ``uri``."""
    if not uri:
        return "tcp:0.0.0.0:4444"
    if uri.startswith("tcp:"):
        port = uri.rsplit(":", 1)[-1]
        return f"tcp:0.0.0.0:{port}"
    return uri
