"""The Watcher: sessions in, Snapshots out.

Polls ``query-migrate`` on every side without overlap (the next poll is armed
only after the previous one finished), on one clock shared by the sides (so
their answers come together and make one screen update, not one per side),
polls at once on a MIGRATION event,
re-reads capabilities and parameters on (re)connect, and keeps a history ring
per side.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from qmigtui.analysis.history import History, Sample
from qmigtui.model.capabilities import capabilities_of
from qmigtui.model.evolve import evolve
from qmigtui.model.records import SHIPPED, Types, parse_list, parse_record
from qmigtui.qmp.errors import AnswerTooLarge, QmpError
from qmigtui.qmp.schema import Schema, load_schema
from qmigtui.qmp.session import ConnState, EventQueue, Session
from qmigtui.watch import crowd
from qmigtui.watch.context import Forecaster
from qmigtui.watch.publishing import Publishing
from qmigtui.watch.snapshot import TERMINAL, DirtyRate, EventLine, SideState, Snapshot, ZeroShare
from qmigtui.watch.turns import new_migration, pause_still_asked

Listener = Callable[[Snapshot], None]
_watchers: weakref.WeakSet[Watcher] = weakref.WeakSet()  # watching now, in this process
CONFIG_EVERY = 5.0  # seconds between reads of capabilities and parameters (another client may set them)
OURS_FOR = 30.0  # seconds a change we sent explains what a read then finds


class Side:
    """Mutable working state of one endpoint inside the watcher."""

    def __init__(self, session: Session, capacity: int):
        self.session = session
        self.history = History(capacity)
        self.state = SideState(session.name, session.traits.address, session.hub.state)
        self.schema: Schema | None = None
        self.queue: EventQueue = session.hub.subscribe()
        self.poll_now = asyncio.Event()
        self.config_stale = True
        self.config_read = -math.inf  # monotonic time of the last read of the configuration
        self.ours: dict[str, float] = {}  # capability or parameter -> when we last set it
        self.last_answer: tuple[float, float] = (math.nan, math.nan)


class Watcher:
    """Owns the sessions of one migration (source, and destination when given)."""

    def __init__(self, sessions: Sequence[Session], interval: float = 1.0, *,
                 history_capacity: int = 7200, max_events: int = 1000, lab: bool = False):
        if not sessions:
            raise ValueError("at least one endpoint is needed")
        self.interval = interval
        self.lab = lab
        self.sides = {s.name: Side(s, history_capacity) for s in sessions}
        self.events: deque[EventLine] = deque(maxlen=max_events)
        self._listeners: list[Listener] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._phase = 0.0  # seconds this watcher's clock ticks after the shared one
        self._seq = 0
        self._publishing = Publishing(self._flush, interval)
        self._event_seq = 0
        self._generation = 0  # bumped by reset(): an answer asked for before it is not kept
        self.measurements: deque[DirtyRate] = deque(maxlen=100)
        self.zero_shares: deque[ZeroShare] = deque(maxlen=20)
        self._forecaster = Forecaster()
        self.snapshot = self._make_snapshot()
        for side in self.sides.values():
            side.session.hub.on_state(self._state_listener(side))
            side.session.hub.on_poll_hint(self._hint_listener(side.state.name))
            side.session.hub.add_tap(self._command_listener(side))

    @property
    def read_only(self) -> bool:
        return any(s.session.hub.read_only for s in self.sides.values())

    def session(self, name: str) -> Session:
        return self.sides[name].session

    def schema(self, name: str) -> Schema | None:
        return self.sides[name].schema

    async def ensure_schema(self, name: str) -> Schema:
        """This side's schema, asked for now if the first poll has not read it yet."""
        side = self.sides[name]
        if side.schema is None:
            side.schema = await load_schema(side.session)
        return side.schema

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def add_measurement(self, measurement: DirtyRate | ZeroShare) -> None:
        """Keep a dirty-rate or zero-share result for the history and the forecast."""
        if isinstance(measurement, ZeroShare):
            self.zero_shares.append(measurement)
        else:
            self.measurements.append(measurement)
        self._publish()

    def reset(self) -> None:
        """Forget every answer, event and measurement (a replay went back to its start); a poll
        under way when this is called is dropped."""
        self._generation += 1
        for name, side in self.sides.items():
            side.history = History(side.history.capacity)
            side.state = SideState(name, side.session.traits.address, side.session.hub.state)
            side.config_stale, side.config_read = True, -math.inf
            side.ours.clear()
            side.last_answer = (math.nan, math.nan)
            side.schema = None
        self.events.clear()
        self.measurements.clear()
        self.zero_shares.clear()
        self._forecaster = Forecaster()
        self._publish()

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        """Begin watching (sessions must be connected or reconnecting)."""
        self._stopping = False
        self._phase = crowd.phase(len(_watchers), self.interval)  # beside others: see crowd
        _watchers.add(self)
        for side in self.sides.values():
            self._tasks.append(asyncio.create_task(self._poll_loop(side)))
            self._tasks.append(asyncio.create_task(self._event_loop(side)))

    async def stop(self) -> None:
        self._stopping = True  # wait_for in 3.11 can swallow a cancel that meets a timeout
        _watchers.discard(self)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def drop_connections(self) -> None:
        """Let go of every monitor at once, without the loop (a hang-up)."""
        for side in self.sides.values():
            side.session.drop()

    async def close(self) -> None:
        """Stop watching and close every session."""
        await self.stop()
        for side in self.sides.values():
            await side.session.close()

    def poke(self, name: str | None = None, config: bool = False) -> None:
        """Poll now (and re-read capabilities and parameters when ``config``)."""
        for side in self.sides.values():
            if name is None or side.state.name == name:
                side.config_stale = side.config_stale or config
                side.poll_now.set()

    # -- loops ---------------------------------------------------------------

    async def _poll_loop(self, side: Side) -> None:
        while not self._stopping:
            side.poll_now.clear()  # before polling: a hint that comes during the poll is kept
            if side.session.hub.state is ConnState.CONNECTED:
                self._publishing.poll_started(side.state.name)
                try:
                    await self._poll(side)
                finally:
                    self._publishing.poll_ended(side.state.name)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._until_tick()):  # no task a wait, as wait_for made
                    await side.poll_now.wait()

    def _until_tick(self) -> float:
        """Seconds to the next tick of the clock every side polls on; a poll off the clock
        (after an event) is not followed by another one at once."""
        wait = self.interval - (time.monotonic() - self._phase) % self.interval
        return wait + self.interval if wait < self.interval / 4 else wait

    async def _poll(self, side: Side) -> None:
        session, generation = side.session, self._generation
        try:
            if side.schema is None:
                # the state first (a fleet of fifty shows every row at once); the schema, half
                # a megabyte to read, after
                self._take(side, await session.execute("query-migrate"), generation)
                if len(_watchers) > 1:  # every VM's state drawn before the big reads fill the loop
                    await crowd.turn()
                async with crowd.reading():
                    side.schema = await load_schema(session)
                s = side.schema
                side.state = replace(side.state, kvm=await _kvm(session))
                side.state = replace(
                    side.state, qemu_version=session.hub.qemu_version,
                    via=session.traits.via,
                    limits=tuple(session.hub.missing),
                    supported_commands=frozenset(s.commands),
                    capability_features={c: s.capability_features(c) for c in s.capabilities},
                    parameter_features={p: s.parameter_features(p) for p in s.parameters},
                    parameter_types={p: arg.type for p, arg in s.parameters.items()},
                    command_features={c: info.features for c, info in s.commands.items()
                                      if info.features})
            if side.config_stale or time.monotonic() - side.config_read > CONFIG_EVERY:
                await self._read_config(side)
            raw = await session.execute("query-migrate")
        except AnswerTooLarge as e:  # the session asks it again after a wait; said until then
            side.state = replace(side.state, error=str(e), problem=str(e))
            self._publish()
            return
        except QmpError as e:
            side.state = replace(side.state, error=str(e))
            self._publish()
            return
        except ValueError as e:  # a schema that is not one
            side.state = replace(side.state, error=f"bad schema: {e}")
            self._publish()
            return
        self._take(side, raw, generation)

    def _take(self, side: Side, raw: Any, generation: int) -> None:
        """One query-migrate answer into the side's state and history."""
        session = side.session
        if generation != self._generation:
            return
        stamp = session.response_time()
        if stamp == side.last_answer:  # a replay repeating an answer: nothing new to show
            return
        side.last_answer = stamp
        if session.hub.overtaken:
            # QEMU made this answer before the state an event announced meanwhile: shown, it
            # would step the state back; the event asked for another poll, which follows
            return
        info = parse_record("MigrationInfo", raw, _types(side, "query-migrate", "MigrationInfo"))
        previous = side.state.status
        status = info.text("status")
        if previous in TERMINAL and status not in TERMINAL and new_migration(side.history, info):
            side.history.clear()  # a new migration: a new history
            side.state = replace(side.state, passes=0)
        now, wall = stamp
        if status not in (None, "none") and now != side.history.latest("t"):
            side.history.append(Sample.from_info(now, wall, info))
        side.state = evolve(side.state, info=info, error=None, polled=now,
                             problem=side.state.problem if side.schema is None else None,
                             pause_asked=pause_still_asked(side.state.pause_asked, status))
        self._publish(answered=side.state.name)

    async def _read_config(self, side: Side) -> None:
        """Capabilities and parameters, read again every CONFIG_EVERY seconds: what changed
        since the last read and was not set from here is marked as set elsewhere."""
        session = side.session
        caps = capabilities_of(parse_list("MigrationCapabilityStatus",
                                          await session.execute("query-migrate-capabilities")))
        params = parse_record("MigrationParameters",
                              await session.execute("query-migrate-parameters"),
                              _types(side, "query-migrate-parameters", "MigrationParameters"))
        before = side.state
        changed: set[str] = set()
        if before.parameters is not None:  # not on the first read
            old = before.parameters.values | before.parameters.extra
            new = params.values | params.extra
            changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
            changed |= {k for k in caps.keys() | before.capabilities.keys()
                        if caps.get(k) != before.capabilities.get(k)}
        now = time.monotonic()
        elsewhere = {k for k in changed if now - side.ours.get(k, -math.inf) > OURS_FOR}
        ours_now = {k for k in changed if k not in elsewhere}
        side.state = replace(side.state, parameters=params, capabilities=caps,
                             changed_elsewhere=(before.changed_elsewhere - ours_now) | elsewhere)
        side.config_stale = False
        side.config_read = now

    async def _event_loop(self, side: Side) -> None:
        while not self._stopping:
            raw = await side.queue.get()
            name = str(raw.get("event", "?"))[:64]
            payload = raw.get("data")
            data: dict[str, Any] = payload if isinstance(payload, dict) else {}
            self._event_seq += 1
            self.events.append(EventLine(side.state.name, name, data, _qemu_time(raw),
                                         side.session.now()[0], self._event_seq))
            if name == "MIGRATION_PASS" and isinstance(data.get("pass"), int):
                side.state = replace(side.state, passes=data["pass"])
            if name == "MIGRATION":
                self._apply_status_event(side, data.get("status"))
                side.poll_now.set()
            self._publish()

    def _apply_status_event(self, side: Side, status: Any) -> None:
        """Show an announced status at once; the poll it triggers fills in the numbers."""
        if not isinstance(status, str):
            return
        info = side.state.info
        values = dict(info.values) if info is not None else {}
        values["status"] = status[:64]
        base = info if info is not None else parse_record("MigrationInfo", {})
        side.state = replace(side.state, info=replace(base, values=values),
                             pause_asked=pause_still_asked(side.state.pause_asked, status))

    def _command_listener(self, side: Side) -> Callable[[str, dict[str, Any]], None]:
        """A migrate-pause sent to this side (from any key, the console or a browser) makes its
        coming postcopy-paused one asked for, not a failure (QEMU 7.2 does not say so)."""
        def listener(kind: str, msg: dict[str, Any]) -> None:
            if kind != "command":
                return
            command, args = msg.get("execute"), msg.get("arguments") or {}
            if command == "migrate-pause":
                side.state = replace(side.state, pause_asked=True)
            elif command == "migrate-set-parameters" and isinstance(args, dict):
                side.ours.update(dict.fromkeys(args, time.monotonic()))
            elif command == "migrate-set-capabilities" and isinstance(args, dict):
                for cap in args.get("capabilities") or ():
                    if isinstance(cap, dict):
                        side.ours[str(cap.get("capability"))] = time.monotonic()
        return listener

    def _hint_listener(self, name: str) -> Callable[[bool], None]:
        def listener(config: bool) -> None:
            self.poke(name, config)
        return listener

    def _state_listener(self, side: Side) -> Callable[[ConnState, str | None], None]:
        def listener(state: ConnState, reason: str | None) -> None:
            if state is ConnState.CONNECTED:
                side.schema = None  # a restarted QEMU may be another version
                side.config_stale = True
                side.poll_now.set()
            side.state = replace(side.state, connection=state,
                                 reason=reason if state is not ConnState.CONNECTED else None)
            self._publish()
        return listener

    # -- publishing ------------------------------------------------------

    def _make_snapshot(self) -> Snapshot:
        """The state as it is now, with its forecast worked out from it."""
        snap = Snapshot(
            sides=tuple(s.state for s in self.sides.values()),
            events=tuple(self.events),
            histories={name: s.history.view() for name, s in self.sides.items()},
            seq=self._seq,
            read_only=self.read_only,
            lab=self.lab,
            measurements=tuple(self.measurements),
            zero_shares=tuple(self.zero_shares),
            wall=time.time(),
        )
        return evolve(snap, forecast=self._forecaster(snap))

    def _publish(self, answered: str | None = None) -> None:
        """Publish soon (see Publishing: ``answered`` names the side a poll's numbers came from)."""
        self._publishing.publish(answered)

    def _flush(self) -> None:
        self._seq += 1
        self.snapshot = self._make_snapshot()
        for listener in list(self._listeners):
            listener(self.snapshot)


async def _kvm(session: Session) -> bool | None:
    """Whether this QEMU runs its guest under KVM (what a vCPU dirty limit needs)."""
    try:
        reply = await session.execute("query-kvm")
    except QmpError:
        return None
    return bool(reply.get("enabled")) if isinstance(reply, dict) else None


def _qemu_time(raw: dict[str, Any]) -> float:
    ts = raw.get("timestamp")
    if isinstance(ts, dict):
        s, us = ts.get("seconds"), ts.get("microseconds")
        if isinstance(s, int) and isinstance(us, int) and not isinstance(s, bool):
            return s + us / 1e6
    return math.nan


def _types(side: Side, command: str, root: str) -> Types:
    """How this side's QEMU types ``command``'s reply (the shipped tables before its schema)."""
    return side.schema.reply_types(command, root) if side.schema is not None else SHIPPED
