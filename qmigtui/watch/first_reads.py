"""When a watcher beside others makes its big first read (the schema, half a megabyte a QEMU):
after every watched VM's state is known. A fleet opening its members holds those reads until
each member was tried once (two hundred schemas read while the last members still connect
made their rows wait seconds); a lone watcher reads at once."""

from __future__ import annotations

import asyncio
import time

AFTER_S = 0.5  # a watcher beside others: its schema read no sooner than this after its state
HOLD_MAX_S = 15.0  # and never held longer than this (a fleet whose opening hangs)
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
