"""Replay a recording through sessions that look like live ones to everything above.

A Player walks the recording on a Clock (recorded time, at a speed, pausable,
able to jump ahead) and hands each entry to its side's ReplaySession: events go
to the session's event queues, state lines change its connection state, and
answers become what ``execute`` returns.  ``query-migrate`` answers come back
in recorded order, each once it is due (the session hints the watcher to poll
then), so the watcher's history is the one gathered live; other queries
answer with their latest recorded reply.  A replay is read-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from qmigtui import DATA
from qmigtui.qmp.endpoint import Endpoint, parse_endpoint
from qmigtui.qmp.errors import CommandRejected, EndpointError, NotConnected, ReadOnlyRefused
from qmigtui.qmp.poll_order import POLLED, PollOrder
from qmigtui.qmp.session import ConnState, Session, is_query
from qmigtui.record.format import Entry, Reader, RecordingError, last_time, status_events

EXAMPLE = DATA / "examples" / "postcopy-recover.jsonl.gz"
CONFIG = ("query-migrate-capabilities", "query-migrate-parameters")
FIRST_ASKED = ("query-qmp-schema", *CONFIG)
POLL_BACKLOG = 256  # answers kept for a lagging watcher (a jump skips them anyway)
MAX_LAG = 2.0  # recorded seconds the clock may run ahead of what was delivered
HANDOFF_WAIT = 0.5  # real seconds the player waits for the watcher to take a due answer
SPEEDS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 1000.0)


class Clock:
    """Recorded time as real time goes by: ``speed`` recorded seconds per real second."""

    def __init__(self, start: float, speed: float = 1.0):
        self.speed = speed
        self.paused = False
        self.end = math.inf  # the clock stops here (the recording's last line)
        self._rec = start
        self._real = time.monotonic()

    def now(self) -> float:
        if self.paused:
            return min(self._rec, self.end)
        return min(self._rec + (time.monotonic() - self._real) * self.speed, self.end)

    def rebase(self, rec: float) -> None:
        """Recorded time is ``rec`` now (the player uses it to hold the clock back)."""
        self._rec, self._real = rec, time.monotonic()

    def set_speed(self, speed: float) -> None:
        self.rebase(self.now())
        self.speed = speed

    def pause(self, paused: bool) -> None:
        self.rebase(self.now())
        self.paused = paused


class ReplaySession(Session):
    """One side of a recording, answering as that QEMU answered then."""

    def __init__(self, name: str, endpoint: str, clock: Clock):
        try:
            ep = parse_endpoint(endpoint)
        except EndpointError:
            ep = Endpoint("unix", path=endpoint or name)
        super().__init__(ep, name, read_only=True, reconnect=False)
        self.clock = clock
        self.replay_wall_offset = 0.0  # recorded wall minus recorded monotonic
        self._answers: dict[str, tuple[Entry, Any]] = {}
        # due query-migrate answers not yet returned, each with whether it was overtaken
        self._polled: deque[tuple[Entry, Any, bool]] = deque(maxlen=POLL_BACKLOG)
        self._last_polled: tuple[Entry, Any, bool] | None = None
        self._current: tuple[float, float] | None = None
        self._pending: dict[str, str] = {}
        self._hints: list[Callable[[bool], None]] = []
        self.drained = asyncio.Event()  # every due query-migrate answer was taken
        self.drained.set()

    # -- the Session interface -------------------------------------------------

    async def connect(self) -> None:
        self._set_state(ConnState.CONNECTED, None)

    async def close(self) -> None:
        self._set_state(ConnState.CLOSED, None)

    def on_poll_hint(self, listener: Callable[[bool], None]) -> None:
        self._hints.append(listener)

    def now(self) -> tuple[float, float]:
        t = self.clock.now()
        return t, t + self.replay_wall_offset

    def response_time(self) -> tuple[float, float]:
        return self._current or self.now()

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      timeout: float | None = None) -> Any:
        if not is_query(command, arguments):
            raise ReadOnlyRefused(command)
        if self.state is not ConnState.CONNECTED:
            raise NotConnected(f"{self.name} is {self.state.value} (in the recording)")
        if command == POLLED and (self._polled or self._last_polled):
            if self._polled:
                self._last_polled = self._polled.popleft()
                if self._polled:
                    self._hint()
                else:
                    self.drained.set()
            assert self._last_polled is not None
            entry, answer, self.overtaken = self._last_polled
        elif command in self._answers:
            entry, answer = self._answers[command]
        else:
            raise CommandRejected(command, "GenericError", f"{command} is not in the recording yet")
        self._current = (entry.t, entry.wall)
        if isinstance(answer, dict) and "error" in answer:
            err = answer["error"] if isinstance(answer["error"], dict) else {}
            raise CommandRejected(command, str(err.get("class", "GenericError")), str(err.get("desc", "")))
        return answer.get("return") if isinstance(answer, dict) else None

    # -- fed by the player --------------------------------------------------------

    def feed(self, entry: Entry) -> None:
        msg = entry.msg
        if entry.kind == "greeting":
            self.greeting = msg
        elif entry.kind == "command":
            self._pending[str(msg.get("id"))] = str(msg.get("execute", "?"))
            self.polls.sent(msg)
        elif entry.kind == "response":
            command = self._pending.pop(str(msg.get("id")), None)
            if command == POLLED:
                self._polled.append((entry, msg, bool(self.polls.answered(msg))))
                self.drained.clear()
                self._hint()
            elif command is not None:
                asked_again = command in self._answers
                self._answers[command] = (entry, msg)
                if command in CONFIG or (command in FIRST_ASKED and not asked_again):
                    self._hint(config=True)  # what the watcher reads on connecting, or re-reads
        elif entry.kind == "event":
            # answers from before the event that nobody took are stale now: a late poll must
            # not take the status back behind what the event announced
            self._polled.clear()
            self.drained.set()
            self._tap("event", msg)
        elif entry.kind == "state":
            state = msg.get("state")
            if state == ConnState.CLOSED.value:
                return  # the recorder's own end, not something QEMU did
            with contextlib.suppress(ValueError):
                self._set_state(ConnState(str(state)), msg.get("reason"))

    def rewind(self) -> None:
        """Back to the start of the recording: nothing answered, nothing pending."""
        self._answers.clear()
        self._polled.clear()
        self._pending.clear()
        self._last_polled = self._current = None
        self.polls = PollOrder()
        for queue in self._queues:
            queue.clear()
        self.drained.set()
        self._set_state(ConnState.CONNECTED, None)

    def skip_polls(self) -> None:
        """After a jump: only the latest query-migrate answer is worth returning."""
        while len(self._polled) > 1:
            self._polled.popleft()

    async def taken(self, timeout: float) -> None:
        """Wait (a little) until the watcher took the due answers and events: it then sees
        them in the recorded order, one published snapshot each, whatever the speed."""
        if self.state is ConnState.CONNECTED and not self.drained.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.drained.wait(), timeout)
        for _ in range(200):
            if not any(len(q) for q in self._queues):
                break
            await asyncio.sleep(0)
        for _ in range(3):  # the watcher publishes on the next loop turns
            await asyncio.sleep(0)

    def _hint(self, config: bool = False) -> None:
        for hint in self._hints:
            hint(config)



class Player:
    """Walks a recording in recorded time and feeds the ReplaySessions."""

    def __init__(self, path: str, speed: float = 1.0):
        self.path = path
        self.reader = Reader(path)
        self.sessions = {name: ReplaySession(name, str(info.get("endpoint", "")), Clock(0.0))
                         for name, info in self.reader.sides.items()}
        self.error: str | None = None
        self._open()
        if self._next is None:
            raise RecordingError(self.error or self.reader.warning
                                 or f"{path}: no messages after the header")
        self.start = self._next.t
        self.clock = Clock(self.start, speed)
        for s in self.sessions.values():
            s.clock = self.clock
            s.replay_wall_offset = self._next.wall - self._next.t
        self.length: float | None = None  # recorded seconds, once the file was read through
        self.ended = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._length_task: asyncio.Task[None] | None = None
        self._catch_up: float | None = None  # recorded time to deliver up to at once
        self._wake = asyncio.Event()
        self._rewind_listeners: list[Callable[[], None]] = []

    def _open(self) -> None:
        self._entries: Iterator[Entry] = self.reader.entries()
        self._next: Entry | None = self._advance()
        self._last_t = -math.inf  # the time of the last entry delivered
        self._statuses: dict[str, str] = {}  # per side, the last status a MIGRATION event gave
        self._last_stop: tuple[int, dict[str, str]] | None = None  # where ] went last

    def _advance(self) -> Entry | None:
        try:
            return next(self._entries, None)
        except RecordingError as e:  # found mid-file: the replay stops there, the app stays
            self.error = str(e)
            return None

    def on_rewind(self, listener: Callable[[], None]) -> None:
        """Called when the replay goes back to its start (whoever keeps a history forgets it)."""
        self._rewind_listeners.append(listener)

    @property
    def warning(self) -> str | None:
        return self.error or self.reader.warning

    @property
    def speed(self) -> float:
        return self.clock.speed

    @property
    def paused(self) -> bool:
        return self.clock.paused

    @property
    def at_end(self) -> bool:
        return self._next is None

    @property
    def position(self) -> float:
        """Recorded seconds since the start of the recording (the clock stops at the end)."""
        return self.clock.now() - self.start

    def start_playing(self) -> None:
        self._task = asyncio.create_task(self._run(), name="replay")
        self._length_task = asyncio.create_task(self._read_length(), name="replay-length")

    async def _read_length(self) -> None:
        last = await asyncio.to_thread(last_time, self.path)
        if last is not None and self.error is None and (self.length is None
                                                        or last - self.start > self.length):
            self._extend(last)

    async def stop(self) -> None:
        self._stopping = True  # a cancel that meets wait_for's timeout can be lost in 3.11
        for task in (self._task, self._length_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._length_task = None

    async def _run(self) -> None:
        while not self._stopping:
            await self._play()
            if self._stopping:
                break
            if self.error is not None or self.length is None:  # broke off, or never read through
                self._extend(self._last_t)
            self._catch_up = None
            self.ended.set()
            self._wake.clear()
            await self._wake.wait()  # a seek backwards plays on

    async def _play(self) -> None:
        polls = 0
        while self._next is not None and not self._stopping:
            entry = self._next
            if self._catch_up is not None:
                if entry.t > self._catch_up:
                    self.clock.rebase(self._catch_up)
                    self._catch_up = None
                    continue
                self._deliver(entry)
                self._next = self._advance()
                if entry.kind == "event" or (entry.kind == "response" and (polls := polls + 1) % 4 == 0):
                    self.sessions[entry.side].skip_polls()  # the graphs keep one answer in four
                    await self.sessions[entry.side].taken(HANDOFF_WAIT)
                continue
            if entry.t > self.clock.end:  # read further than the last line said
                self._extend(entry.t)
            wait = entry.t - self.clock.now()
            if wait < -MAX_LAG:  # faster than the watcher can take it: the clock waits
                self.clock.rebase(entry.t)
                wait = 0.0
            if wait > 0:
                speed = self.clock.speed if not self.clock.paused else 1.0
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(),
                                           min(wait / speed, 0.1) if not self.clock.paused else 0.1)
                continue
            self._deliver(entry)
            self._next = self._advance()
            if entry.kind in ("response", "event"):
                await self.sessions[entry.side].taken(HANDOFF_WAIT)

    def _extend(self, last: float) -> None:
        self.length = max(0.0, last - self.start)
        self.clock.end = self.start + self.length

    def _deliver(self, entry: Entry) -> None:
        if entry.kind == "event" and entry.msg.get("event") == "MIGRATION":
            data = entry.msg.get("data")
            self._statuses[entry.side] = str(data.get("status")) if isinstance(data, dict) else "?"
        self._last_t = entry.t
        self.sessions[entry.side].feed(entry)

    # -- controls ----------------------------------------------------------------

    def toggle_pause(self) -> bool:
        self.clock.pause(not self.clock.paused)
        return self.clock.paused

    def faster(self, step: int = 1) -> float:
        speeds = list(SPEEDS)
        i = min(range(len(speeds)), key=lambda k: abs(speeds[k] - self.clock.speed))
        self.clock.set_speed(speeds[max(0, min(len(speeds) - 1, i + step))])
        return self.clock.speed

    def jump_to(self, position: float) -> float:
        """Go to ``position`` recorded seconds from the start, forward or back; what lies between
        is delivered at once (the graphs keep one answer in four of it). Back in time, the
        replay starts again from its beginning and everyone listening forgets what they saw."""
        position = max(0.0, position)
        if self.length is not None:
            position = min(position, self.length)
        target = self.start + position
        if target < self._last_t:
            self._rewind()
        self._catch_up = target
        self.clock.rebase(target)
        self._wake.set()
        return position

    def _rewind(self) -> None:
        self.reader = Reader(self.path)
        self.error = None
        self._open()
        self.ended.clear()
        for s in self.sessions.values():
            s.rewind()
        for listener in self._rewind_listeners:
            listener()

    def next_state_change(self) -> str | None:
        """Go to the next MIGRATION event that changes where the pair stands: a side's new
        status, unless the other side already announced it. Returns "status (side)", or None
        at the end. Events are taken in recorded order (two changes in one millisecond are two
        stops), and what lies before the stop is delivered as by ``jump_to``."""
        if self._next is None:
            return None
        line, statuses = self._next.line, dict(self._statuses)
        if self._last_stop is not None and self._last_stop[0] >= line:  # not delivered yet
            line, statuses = self._last_stop[0] + 1, dict(self._last_stop[1])
        for number, t, side, status in status_events(self.path, line):
            statuses[side] = status
            if status in {st for other, st in statuses.items() if other != side}:
                continue
            self._last_stop = (number, statuses)
            self._catch_up = t
            self.clock.rebase(t)
            self._wake.set()
            return f"{status} ({side})"
        return None
