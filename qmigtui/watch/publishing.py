"""When the watcher publishes a Snapshot: once per loop turn for a burst of events and answers,
and once per tick for the answers of every side to the same poll (one forecast, one frame,
not one a side); anything that is not new numbers goes out at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

GATHER_S = 0.2  # seconds (at most half the interval) a side's answer waits for the others'


class Publishing:
    """Calls ``flush`` when a Snapshot is due."""

    def __init__(self, flush: Callable[[], None], interval: float):
        self._flush = flush
        self._wait = min(GATHER_S, interval / 2)
        self._pending = False
        self._gathering: asyncio.TimerHandle | None = None  # new numbers waiting for the others
        self._in_flight: set[str] = set()  # sides whose poll is under way

    def poll_started(self, side: str) -> None:
        self._in_flight.add(side)

    def poll_ended(self, side: str) -> None:
        """A side's poll is over (answered or not): the last of a tick publishes them all."""
        self._in_flight.discard(side)
        if not self._in_flight and self._gathering is not None:
            self.publish()

    def publish(self, answered: str | None = None) -> None:
        """Publish soon. ``answered``: the side whose poll brought new numbers; they wait for
        the other sides' answers to the same tick (at most GATHER_S). Anything else (an
        event, a state of the connection) is published at once, with the waiting numbers."""
        loop = asyncio.get_running_loop()
        if answered is not None and self._in_flight - {answered}:
            if not self._pending:
                self._pending = True
                self._gathering = loop.call_later(self._wait, self._flushed)
            return
        if self._gathering is not None:
            self._gathering.cancel()
            self._gathering = None
            self._pending = False
        if not self._pending:
            self._pending = True
            loop.call_soon(self._flushed)

    def _flushed(self) -> None:
        self._pending = False
        self._gathering = None
        self._flush()
