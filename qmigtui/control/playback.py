"""``qmigtui replay --headless``: a recording played through the watcher, as status lines."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from qmigtui.control.connect import open_replay
from qmigtui.model import units
from qmigtui.watch.snapshot import Snapshot


def final_numbers(snap: Snapshot) -> dict[str, dict[str, Any]]:
    """Per side: status and the totals a migration ends with."""
    out: dict[str, dict[str, Any]] = {}
    for side in snap.sides:
        info = side.info
        ram = info.ram if info is not None else None
        out[side.name] = {
            "status": side.status,
            "transferred": ram.transferred if ram else None,
            "remaining": ram.remaining if ram else None,
            "total-time": info.total_time if info else None,
            "downtime": info.downtime if info else None,
        }
    return out


async def play(path: str | Path, speed: float = 1000.0, quiet: bool = False
               ) -> tuple[list[tuple[str, str]], dict[str, dict[str, Any]], str | None]:
    """Play a recording to its end; returns the (side, status) changes, the final numbers and
    the reader's warning (a last line cut short)."""
    backend = await open_replay(path, speed)
    changes: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    player: Any = backend.player

    def on_snapshot(snap: Snapshot) -> None:
        for side in snap.sides:
            if seen.get(side.name) != side.status:
                seen[side.name] = side.status
                changes.append((side.name, side.status))
                if not quiet:
                    print(f"{player.position:8.1f}s  {side.name:<12} {side.status}", flush=True)
    backend.watcher.subscribe(on_snapshot)
    try:
        await player.ended.wait()
        for _ in range(50):  # let the watcher take the answers still due
            await asyncio.sleep(0.02)
        return changes, final_numbers(backend.watcher.snapshot), player.warning
    finally:
        await backend.close()


def play_headless(path: str | Path, speed: float) -> int:
    """Exit 0, or 2 when the recording turned out bad on the way (the line is named)."""
    _, final, warning = asyncio.run(play(path, speed))
    for name, numbers in final.items():
        print(f"{name}: {numbers['status']}, transferred {units.format_bytes(numbers['transferred'])}, "
              f"total time {units.format_ms(numbers['total-time'])}, "
              f"downtime {units.format_ms(numbers['downtime'])}")
    if warning:
        print(f"qmigtui: {warning}", file=sys.stderr)
        return 2 if "cut short" not in warning else 0
    return 0
