"""Helpers for tests that drive real migrations."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


async def wait_for(predicate: Callable[[], Any], timeout: float, what: str,
                   step: float = 0.05) -> Any:
    """Wait until ``predicate()`` is truthy (it may be async); fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(step)


async def status_of(session: Any) -> str:
    return str((await session.execute("query-migrate")).get("status", "none"))
