"""Watchers beside others in one process (a fleet, an exporter): when they make their big
first read, and on which clocks they poll.

The first read (the schema, half a megabyte a QEMU) comes after every watched VM's state is
known: a fleet opening its members holds those reads until each member was tried once (two
hundred schemas read while the last members still connected made their rows wait seconds);
a lone watcher reads at once.

Their polls are spread over eight clocks: two hundred VMs polled on one tick answered in one
burst that held every event back for a fifth of a second on a screen. Each more clock wakes
the process (and the peers) once more a second: an exporter, with no screen to keep quick,
asks for one (``one_clock``)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator

AFTER_S = 0.5  # a watcher beside others: its schema read no sooner than this after its state
HOLD_MAX_S = 15.0  # and never held longer than this (a fleet whose opening hangs)
_clocks = 8
READS_AT_ONCE = 4  # first reads in flight at once (each answer is megabytes of objects)
_reading: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int] = weakref.WeakKeyDictionary()
_holders: set[object] = set()
_released = -float("inf")  # monotonic time the last hold ended


def hold() -> object:
    """Hold every first read back until ``release`` (a token for it)."""
    token = object()
    _holders.add(token)
    return token


def release(token: object) -> None:
    global _released
    if token in _holders:
        _holders.discard(token)
        _released = time.monotonic()


def held() -> bool:
    """A fleet is opening, or ended its opening less than AFTER_S ago (its last members'
    first answers are on their way)."""
    return bool(_holders) or time.monotonic() - _released < AFTER_S


async def turn() -> None:
    """Wait for a first read's turn: AFTER_S, and while a fleet opens (at most HOLD_MAX_S)."""
    deadline = time.monotonic() + HOLD_MAX_S
    await asyncio.sleep(AFTER_S)
    while held() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def reading() -> AsyncIterator[None]:
    """A first read, at most READS_AT_ONCE at a time in one event loop: two hundred schemas
    asked at once were two hundred answers in memory at once (a fleet of 200 took 296 MB)."""
    loop = asyncio.get_running_loop()
    while _reading.get(loop, 0) >= READS_AT_ONCE:
        await asyncio.sleep(0.01)
    _reading[loop] = _reading.get(loop, 0) + 1
    try:
        yield
    finally:
        _reading[loop] -= 1


def one_clock() -> None:
    """Every watcher of this process polls on the same tick (fewest wake-ups)."""
    global _clocks
    _clocks = 1


def phase(beside: int, interval: float) -> float:
    """Seconds after the shared tick a watcher polls that starts beside ``beside`` others."""
    return beside % _clocks / _clocks * interval
