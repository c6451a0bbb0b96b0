"""Measure the guest's dirty rate when the forecast knows it only as a lower bound, and its
share of zero pages when a first pass starts.

QEMU's own dirty rate is what the last pass found dirty over its length: a guest that
rewrites its hot set faster than the link sends reads at about the link's rate, however
fast it really writes.  A one-second calc-dirty-rate (page-sampling: it reads and hashes
sampled pages, and changes nothing in the guest) shows the real rate, so the forecast does
not promise a convergence it cannot know.  Sent through the controller: guarded and audited
like every command; never in read-only mode.  The zero pages are sampled by reading whole
pages (zero_scan.py): a first pass sends them almost free, so its end depends on how many.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time

from qmigtui.control import measure
from qmigtui.control.ops import Controller
from qmigtui.control.outcomes import ControlError
from qmigtui.control.zero_scan import measure_zero_share
from qmigtui.model.actor import ACTOR, MEASURING
from qmigtui.qmp.errors import QmpError
from qmigtui.watch.snapshot import Snapshot

MIN_GAP_S = 30.0  # real seconds between two automatic measurements
WINDOW_S = 1  # the measuring window: short, so a hot set does not cap what it sees


class AutoMeasure:
    """Watches the snapshots of one desk and measures when the forecast asks for it."""

    def __init__(self, controller: Controller):
        self.controller = controller
        self.taken = self.scans = 0
        self._last = self._last_scan = -math.inf
        self._task: asyncio.Task[None] | None = None
        controller.watcher.subscribe(self._on_snapshot)

    def _on_snapshot(self, snap: Snapshot) -> None:
        f = snap.forecast
        if f is None or snap.read_only or snap.source.status != "active":
            return
        if self._task is not None and not self._task.done():
            return
        commands = snap.source.supported_commands
        scan = (f.wants_zero_scan and "human-monitor-command" in commands
                and time.monotonic() - self._last_scan >= MIN_GAP_S)
        rate = (f.wants_measurement and "calc-dirty-rate" in commands
                and time.monotonic() - self._last >= MIN_GAP_S)
        if scan or rate:
            self._task = asyncio.get_running_loop().create_task(self._measure(scan, rate),
                                                                name="auto-measure")

    async def _measure(self, scan: bool, rate: bool) -> None:
        """Both at once: QEMU measures the rate over its window while the pages are read."""
        ACTOR.set(MEASURING)  # this task's: not the operator steering
        await asyncio.gather(self._scan() if scan else asyncio.sleep(0),
                             self._rate() if rate else asyncio.sleep(0))

    async def _scan(self) -> None:
        self._last_scan = time.monotonic()
        with contextlib.suppress(ControlError, QmpError):
            await measure_zero_share(self.controller)
            self.scans += 1

    async def _rate(self) -> None:
        self._last = time.monotonic()
        with contextlib.suppress(ControlError, QmpError):
            await measure.dirty_rate(self.controller, WINDOW_S)
            self.taken += 1

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
