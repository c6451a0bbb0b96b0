"""Replay a recording through sessions that look like live ones to everything above.

A Player walks the recording on a Clock (recorded time, at a speed, pausable,
able to jump ahead) and hands each entry to its side's ReplaySession
(qmp/replay_session.py), which answers as that QEMU did, so the watcher's
history is the one gathered live.  A replay is read-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Iterator

from qmigtui import DATA
from qmigtui.qmp.replay_session import Clock, ReplaySession
from qmigtui.record.format import Entry, Reader, RecordingError, last_time, status_events

EXAMPLE = DATA / "examples" / "postcopy-recover.jsonl.gz"
MAX_LAG = 2.0  # recorded seconds the clock may run ahead of what was delivered
HANDOFF_WAIT = 0.5  # real seconds the player waits for the watcher to take a due answer
SPEEDS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 1000.0)
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
