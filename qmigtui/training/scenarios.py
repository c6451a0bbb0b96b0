"""Lab scenarios that go wrong on cue.

A scenario is a lab configuration plus a staging step that brings the real QEMU
pair to the promised state (exercises.py judges what a trainee does about it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from qmigtui.analysis.verdict import Verdict
from qmigtui.control.rig import Rig
from qmigtui.lab.pair import LabConfig
from qmigtui.watch.snapshot import Snapshot

MiB = 1 << 20
STUCK = LabConfig(mem_mib=64, working_set_mib=32, dirty_rate_mib_s=40, bandwidth=16 * MiB)
QUICK = LabConfig(mem_mib=64, working_set_mib=8, dirty_rate_mib_s=4, bandwidth=24 * MiB)
WATCHABLE = LabConfig(mem_mib=384, working_set_mib=8, dirty_rate_mib_s=4, bandwidth=24 * MiB)  # ~16 s
THROTTLE_MAX = 50  # %: the guest still dirties 20 MiB/s of its 40 over a 16 MiB/s link

Stage = Callable[[Rig], Awaitable[None]]
STUCK_VERDICTS = (Verdict.NOT_CONVERGING, Verdict.STALLED)


async def until(rig: Rig, predicate: Callable[[Snapshot], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate(rig.watcher.snapshot):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the lab did not reach {what} within {timeout:g} s")
        await asyncio.sleep(0.1)


def status_is(*wanted: str, side: str = "source") -> Callable[[Snapshot], bool]:
    def check(snap: Snapshot) -> bool:
        s = snap.side(side)
        return s is not None and s.status in wanted
    return check


async def _start(rig: Rig) -> None:
    await until(rig, lambda s: all(x.connected and x.capabilities for x in s.sides), 20, "both sides")
    await rig.controller.start_migration()


async def _active(rig: Rig) -> None:
    await _start(rig)
    await until(rig, status_is("active"), 30, "active")


class DestinationLost(TimeoutError):
    """The destination failed instead of pausing when its postcopy link broke."""


async def _stuck_postcopy(rig: Rig, attempts: int = 3) -> None:
    for attempt in range(1, attempts + 1):
        await _active(rig)
        await asyncio.sleep(1.0)
        rig.watcher.poke(config=True)
        await until(rig, lambda s: rig.controller.can("postcopy").ok, 10, "postcopy allowed")
        await rig.controller.start_postcopy()
        await until(rig, status_is("postcopy-active"), 30, "postcopy-active")
        await asyncio.sleep(1.0)
        try:
            await break_postcopy(rig)
            return
        except DestinationLost:
            if attempt == attempts:
                raise
            await rig.reset()  # the guest died with the destination: the lab starts afresh


async def break_postcopy(rig: Rig, notice: float = 10.0) -> None:
    """Cut the link under a running postcopy until both sides are postcopy-paused.

    Now and then QEMU 7.2's source has not noticed the reset connection after a while; it is
    then paused as an operator would, with migrate-pause. Now and then the destination fails
    (and exits) instead of pausing: DestinationLost, the guest went with it.
    """
    def both(snap: Snapshot) -> bool:
        return all(x.status == "postcopy-paused" for x in snap.sides)

    def settled(snap: Snapshot) -> bool:
        return both(snap) or _lost(snap)

    # the destination enters postcopy a moment after the source says so; a link broken in
    # between fails the migration on the destination instead of pausing it
    await until(rig, status_is("postcopy-active", side="destination"), 20,
                "postcopy-active on the destination")
    rig.lab.cut_link()
    try:
        await until(rig, settled, notice, "postcopy-paused on both sides")
    except TimeoutError:
        if rig.controller.status("source") in ("postcopy-active", "postcopy-recover"):
            await rig.controller.pause("source")
        with contextlib.suppress(TimeoutError):
            await until(rig, settled, 60, "postcopy-paused on both sides")
    snap = rig.watcher.snapshot
    if not both(snap):
        sides = ", ".join(f"{x.name} {x.status} ({x.connection})" for x in snap.sides)
        raise (DestinationLost if _lost(snap) else TimeoutError)(
            f"postcopy did not pause on both sides: {sides}")


def _lost(snap: Snapshot) -> bool:
    """QEMU 7.2's destination now and then fails (and exits) instead of pausing."""
    dst = snap.destination
    return dst is not None and (dst.status == "failed" or dst.connection == "gone")


async def _dest_crash(rig: Rig) -> None:
    await _active(rig)
    await asyncio.sleep(2.0)
    rig.lab.kill("destination")
    await until(rig, status_is("failed"), 60, "a failed source")


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    config: LabConfig
    stage: Stage
    reaches: Callable[[Snapshot], bool]  # the promised state, for tests and the banner
    capabilities: dict[str, bool] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("converge", "A healthy precopy that completes on its own, in about 15 s to watch.",
             WATCHABLE, _start,
             status_is("completed", side="destination")),
    Scenario("no-converge", "The guest dirties 40 MiB/s over a link capped at 16 MiB/s: precopy "
             "never converges.", STUCK, _active,
             lambda s: s.forecast is not None and s.forecast.verdict in STUCK_VERDICTS),
    Scenario("throttle", f"Auto-converge throttles the guest up to its {THROTTLE_MAX} % maximum and "
             "still misses a 50 ms downtime limit.", STUCK, _active,
             lambda s: s.source.info is not None
             and (s.source.info.number("cpu-throttle-percentage") or 0) >= THROTTLE_MAX,
             {"auto-converge": True},
             {"downtime-limit": 50, "cpu-throttle-initial": 20, "cpu-throttle-increment": 10,
              "max-cpu-throttle": THROTTLE_MAX}),
    Scenario("postcopy", "A precopy that will not converge, with postcopy-ram on: it needs the "
             "switch to postcopy (p) to finish.", STUCK, _active,
             lambda s: s.forecast is not None and s.forecast.verdict in STUCK_VERDICTS,
             {"postcopy-ram": True}),
    Scenario("stuck-postcopy", "A postcopy whose link is cut midway: both sides postcopy-paused, "
             "waiting for recovery (r).", STUCK, _stuck_postcopy,
             lambda s: all(x.status == "postcopy-paused" for x in s.sides),
             {"postcopy-ram": True}, {"max-postcopy-bandwidth": 4 * MiB}),
    Scenario("pre-switchover", "pause-before-switchover is on: the migration stops before "
             "switchover and waits for continue (n).", QUICK, _start,
             status_is("pre-switchover"), {"pause-before-switchover": True}),
    Scenario("dest-crash", "The destination QEMU dies mid-migration; the source fails.", STUCK,
             _dest_crash, status_is("failed")),
)}
