"""``qmigtui replay --headless``: a recording played through the watcher, as status lines."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, NamedTuple

from qmigtui.cli.autopilot import decision_line
from qmigtui.desk.opening import open_replay
from qmigtui.model import units
from qmigtui.model.record_paths import InfoPath
from qmigtui.policy.presets import Preset
from qmigtui.watch.snapshot import Snapshot


class Played(NamedTuple):
    """A recording played to its end."""

    changes: list[tuple[str, str]]  # (side, status), in order
    final: dict[str, dict[str, Any]]  # per side: status and the totals
    warning: str | None  # a last line cut short (a recorder killed), or what broke the replay
    broken: bool  # a line that was not a recording's (not merely cut short)


def final_numbers(snap: Snapshot) -> dict[str, dict[str, Any]]:
    """Per side: status and the totals a migration ends with."""
    out: dict[str, dict[str, Any]] = {}
    totals: tuple[tuple[str, InfoPath], ...] = (
        ("transferred", "ram.transferred"), ("remaining", "ram.remaining"),
        ("total-time", "total-time"), ("downtime", "downtime"))
    for side in snap.sides:
        info = side.info
        out[side.name] = {"status": side.status} | {
            key: info.number(path) if info is not None else None
            for key, path in totals}
    return out


async def play(path: str | Path, speed: float = 1000.0, quiet: bool = False,
               policy: Preset | None = None) -> Played:
    """Play a recording to its end: the (side, status) changes, the final numbers, and what
    went wrong on the way (a last line cut short, or a bad line); with ``policy``, what it
    would have decided (printed; a replay sends nothing)."""
    desk = await open_replay(path, speed)
    changes: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    player: Any = desk.player

    def on_snapshot(snap: Snapshot) -> None:
        for side in snap.sides:
            if seen.get(side.name) != side.status:
                seen[side.name] = side.status
                changes.append((side.name, side.status))
                if not quiet:
                    print(f"{player.position:8.1f}s  {side.name:<12} {side.status}", flush=True)
    desk.subscribe(on_snapshot)
    if policy is not None:
        desk.autopilot.on_step(lambda step: print(
            f"{player.position:8.1f}s  {policy.name:<12} {decision_line(step)}", flush=True))
        desk.autopilot.engage(policy, dry_run=True)
    try:
        await player.ended.wait()
        for _ in range(50):  # let the watcher take the answers still due
            await asyncio.sleep(0.02)
        return Played(changes, final_numbers(desk.snapshot), player.warning, player.error is not None)
    finally:
        await desk.close()


def play_headless(path: str | Path, speed: float, policy: Preset | None = None) -> int:
    """Exit 0, or 2 when the recording turned out bad on the way (the line is named)."""
    played = asyncio.run(play(path, speed, policy=policy))
    for name, numbers in played.final.items():
        print(f"{name}: {numbers['status']}, transferred {units.format_bytes(numbers['transferred'])}, "
              f"total time {units.format_ms(numbers['total-time'])}, "
              f"downtime {units.format_ms(numbers['downtime'])}")
    if played.warning:
        print(f"qmigtui: {played.warning}", file=sys.stderr)
    return 2 if played.broken else 0
