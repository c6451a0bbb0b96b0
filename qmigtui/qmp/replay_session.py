"""A recording played back as a session: each side of a recording answers as its QEMU
answered then, in recorded time (a Session, read-only).

A Player (record/replay.py) walks the recording on a Clock and hands each line to its side's
ReplaySession: events go to the event queues, state lines change the connection state, and
answers become what ``execute`` returns. ``query-migrate`` answers come back in recorded
order, each once it is due (the session hints the watcher to poll then); other queries answer
with their latest recorded reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from typing import Any, Protocol

from qmigtui.model.commands import is_query
from qmigtui.qmp.endpoint import Endpoint, parse_endpoint
from qmigtui.qmp.errors import CommandRejected, EndpointError, NotConnected, ReadOnlyRefused
from qmigtui.qmp.hub import ConnState, Hub
from qmigtui.qmp.poll_order import POLLED, PollOrder
from qmigtui.qmp.session import Traits

CONFIG = ("query-migrate-capabilities", "query-migrate-parameters")
FIRST_ASKED = ("query-qmp-schema", *CONFIG)


class Line(Protocol):
    """One recorded message, as a recording's reader gives it."""

    @property
    def t(self) -> float: ...
    @property
    def wall(self) -> float: ...
    @property
    def kind(self) -> str: ...
    @property
    def msg(self) -> dict[str, Any]: ...


POLL_BACKLOG = 256  # answers kept for a lagging watcher (a jump skips them anyway)


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


class ReplaySession:
    """One side of a recording, answering as that QEMU answered then (a Session)."""

    timeout = 5.0  # never waited for: every answer is at hand

    def __init__(self, name: str, endpoint: str, clock: Clock):
        try:
            address = str(parse_endpoint(endpoint))
        except EndpointError:
            address = str(Endpoint("unix", path=endpoint or name))
        self.name = name
        self.hub = Hub(name, read_only=True)
        self.traits = Traits(address, live=False)
        self.clock = clock
        self.replay_wall_offset = 0.0  # recorded wall minus recorded monotonic
        self._answers: dict[str, tuple[Line, Any]] = {}
        # due query-migrate answers not yet returned, each with whether it was overtaken
        self._polled: deque[tuple[Line, Any, bool]] = deque(maxlen=POLL_BACKLOG)
        self._last_polled: tuple[Line, Any, bool] | None = None
        self._current: tuple[float, float] | None = None
        self._pending: dict[str, str] = {}
        self.drained = asyncio.Event()  # every due query-migrate answer was taken
        self.drained.set()

    # -- the Session interface -------------------------------------------------

    async def connect(self) -> None:
        self.hub.set_state(ConnState.CONNECTED, None)

    async def close(self) -> None:
        self.hub.set_state(ConnState.CLOSED, None)

    def drop(self) -> None:
        """Nothing to let go of: a recording holds no monitor."""

    def raw_note(self, command: str, arguments: dict[str, Any] | None = None) -> str | None:
        return None

    def peer_pid(self) -> int | None:
        return None

    def now(self) -> tuple[float, float]:
        t = self.clock.now()
        return t, t + self.replay_wall_offset

    def response_time(self) -> tuple[float, float]:
        return self._current or self.now()

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      timeout: float | None = None) -> Any:
        if not is_query(command, arguments):
            raise ReadOnlyRefused(command)
        if self.hub.state is not ConnState.CONNECTED:
            raise NotConnected(f"{self.name} is {self.hub.state.value} (in the recording)")
        if command == POLLED and (self._polled or self._last_polled):
            if self._polled:
                self._last_polled = self._polled.popleft()
                if self._polled:
                    self.hub.hint()
                else:
                    self.drained.set()
            assert self._last_polled is not None
            entry, answer, self.hub.overtaken = self._last_polled
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

    def feed(self, entry: Line) -> None:
        msg = entry.msg
        if entry.kind == "greeting":
            self.hub.greeting = msg
        elif entry.kind == "command":
            self._pending[str(msg.get("id"))] = str(msg.get("execute", "?"))
            self.hub.polls.sent(msg)
        elif entry.kind == "response":
            command = self._pending.pop(str(msg.get("id")), None)
            if command == POLLED:
                self._polled.append((entry, msg, bool(self.hub.polls.answered(msg))))
                self.drained.clear()
                self.hub.hint()
            elif command is not None:
                asked_again = command in self._answers
                self._answers[command] = (entry, msg)
                if command in CONFIG or (command in FIRST_ASKED and not asked_again):
                    self.hub.hint(config=True)  # what the watcher reads on connecting, or re-reads
        elif entry.kind == "event":
            # answers from before the event that nobody took are stale now: a late poll must
            # not take the status back behind what the event announced
            self._polled.clear()
            self.drained.set()
            self.hub.deliver("event", msg)
        elif entry.kind == "state":
            state = msg.get("state")
            if state == ConnState.CLOSED.value:
                return  # the recorder's own end, not something QEMU did
            with contextlib.suppress(ValueError):
                self.hub.set_state(ConnState(str(state)), msg.get("reason"))

    def rewind(self) -> None:
        """Back to the start of the recording: nothing answered, nothing pending."""
        self._answers.clear()
        self._polled.clear()
        self._pending.clear()
        self._last_polled = self._current = None
        self.hub.polls = PollOrder()
        for queue in self.hub.queues:
            queue.clear()
        self.drained.set()
        self.hub.set_state(ConnState.CONNECTED, None)

    def skip_polls(self) -> None:
        """After a jump: only the latest query-migrate answer is worth returning."""
        while len(self._polled) > 1:
            self._polled.popleft()

    async def taken(self, timeout: float) -> None:
        """Wait (a little) until the watcher took the due answers and events: it then sees
        them in the recorded order, one published snapshot each, whatever the speed."""
        if self.hub.state is ConnState.CONNECTED and not self.drained.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.drained.wait(), timeout)
        for _ in range(200):
            if not any(len(q) for q in self.hub.queues):
                break
            await asyncio.sleep(0)
        for _ in range(3):  # the watcher publishes on the next loop turns
            await asyncio.sleep(0)
