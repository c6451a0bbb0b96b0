"""What every kind of session shares, held by each as a part (not inherited): how it stands
with its QEMU, who listens to its messages and state, its event queues, and the order of its
query-migrate answers."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from qmigtui.model.commands import is_query
from qmigtui.model.text import clean
from qmigtui.qmp.errors import NotConnected, ReadOnlyRefused
from qmigtui.qmp.poll_order import PollOrder


class ConnState(enum.StrEnum):
    """How a session stands with its QEMU (its value is the word shown)."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    GONE = "gone"
    CLOSED = "closed"


# A tap sees every message: (kind, message) with kind in greeting/command/response/event.
Tap = Callable[[str, dict[str, Any]], None]
StateListener = Callable[[ConnState, "str | None"], None]


class EventQueue:
    """A bounded queue of events: the oldest are dropped (and counted) when a consumer lags."""

    def __init__(self, maxlen: int = 2000):
        self._items: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._ready = asyncio.Event()
        self.dropped = 0

    def put(self, event: dict[str, Any]) -> None:
        if len(self._items) == self._items.maxlen:
            self.dropped += 1
        self._items.append(event)
        self._ready.set()

    async def get(self) -> dict[str, Any]:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Forget what was not taken yet (a replay going back to its start)."""
        self._items.clear()


class Hub:
    """One session's state and observers; the session feeds it every message it sees."""

    def __init__(self, name: str, *, read_only: bool = False):
        self.name = name
        self.read_only = read_only
        self.state = ConnState.CONNECTING
        self.last_error: str | None = None
        self.greeting: dict[str, Any] = {}
        self.connects = 0
        self.hook_errors = 0
        self.last_hook_error: str | None = None
        self.polls = PollOrder()
        self.overtaken = False  # the latest query-migrate answer was (see poll_order)
        self.missing: list[str] = []  # what this way of watching cannot give, in words
        self.last_command = ""  # the command whose answer a broken link was carrying
        self._taps: list[Tap] = []
        self._state_listeners: list[StateListener] = []
        self._hints: list[Callable[[bool], None]] = []
        self.queues: list[EventQueue] = []

    # -- observers -------------------------------------------------------

    def add_tap(self, tap: Tap) -> None:
        """Call ``tap(kind, message)`` for every greeting, command, response and event."""
        self._taps.append(tap)

    def on_state(self, listener: StateListener) -> None:
        """Call ``listener(state, reason)`` on every change of connection state."""
        self._state_listeners.append(listener)

    def on_poll_hint(self, listener: Callable[[bool], None]) -> None:
        """``listener(config)`` when fresh answers wait: query-migrate, or with ``config`` the
        capabilities and parameters too (only a session that knows in advance says so)."""
        self._hints.append(listener)

    def subscribe(self, maxlen: int = 2000) -> EventQueue:
        """A new bounded queue that receives every event from now on."""
        queue = EventQueue(maxlen)
        self.queues.append(queue)
        return queue

    @property
    def qemu_version(self) -> str:
        v = self.greeting.get("QMP", {}).get("version", {}).get("qemu", {})
        try:
            return f"{int(v['major'])}.{int(v['minor'])}.{int(v['micro'])}"
        except (KeyError, TypeError, ValueError):
            return "unknown"

    # -- fed by the session ----------------------------------------------

    def guard(self, command: str, arguments: dict[str, Any] | None, connected: bool = True) -> None:
        """Raise before anything is sent: ReadOnlyRefused for a change on a read-only session,
        NotConnected when the session has no live link (``connected`` False)."""
        if self.read_only and not is_query(command, arguments):
            raise ReadOnlyRefused(command)
        if not connected or self.state is not ConnState.CONNECTED:
            why = f" ({self.last_error})" if self.last_error else ""
            raise NotConnected(f"{self.name} is {self.state.value}{why}")

    def set_state(self, state: ConnState, reason: str | None) -> None:
        changed = (state, reason) != (self.state, self.last_error)
        self.state = state
        if reason is not None or state is ConnState.CONNECTED:
            self.last_error = reason
        if changed:
            for listener in list(self._state_listeners):
                listener(state, reason)

    def connected(self) -> None:
        """A link (again): counted, and CONNECTED."""
        self.connects += 1
        self.set_state(ConnState.CONNECTED, None)

    def hint(self, config: bool = False) -> None:
        for hint in self._hints:
            hint(config)

    def deliver(self, kind: str, msg: Any) -> None:
        """One message seen on the link: kept where it matters, then shown to the taps."""
        try:
            data = dict(msg)
        except (TypeError, ValueError):
            data = {"raw": clean(str(msg), 200)}
        if kind == "greeting":
            self.greeting = data
        elif kind == "command":
            self.polls.sent(data)
            self.last_command = str(data.get("execute", ""))
        elif kind == "response":
            overtaken = self.polls.answered(data)
            if overtaken is not None:
                self.overtaken = overtaken
        elif kind == "event":
            self.polls.event(data)
            for queue in self.queues:
                queue.put(data)
        self.observe(kind, data)

    def observe(self, kind: str, data: dict[str, Any]) -> None:
        """Show one message to the taps (the recorder, the controller, the watcher)."""
        for tap in self._taps:
            try:
                tap(kind, data)
            except Exception as e:  # a broken observer must not break the protocol
                self.hook_errors += 1
                self.last_hook_error = f"{type(e).__name__}: {e}"


def wall_now() -> tuple[float, float]:
    """(monotonic, unix) time now: the clock of a session on a live QEMU."""
    return time.monotonic(), time.time()


async def stop_task(task: asyncio.Task[None] | None) -> None:
    """Cancel a session's background task and wait for it (whatever it raised)."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
