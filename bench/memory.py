"""Memory over a day: 86,400 samples (24 h at 1 Hz) and 10,000 events through the watcher and app.

A generated day-long recording is played at high speed through the real
watcher and the real app (headless, 120x40), every sample polled and every
event taken; the resident size is read at 12 h and at 24 h.

Targets (issue 9): <= 120 MB at 24 h, growth <= 2 MB between 12 h and 24 h.

    python bench/memory.py
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from _common import day_recording, rss_mb, until

from qmigtui.desk.opening import open_replay
from qmigtui.ui.app import MigrationApp

SAMPLES = 86_400
EVENTS = 10_000


async def play(path: Path, speed: float) -> list[tuple[float, float, int, int]]:
    app = MigrationApp(lambda: open_replay(path, speed))
    marks: list[tuple[float, float, int, int]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: app.desk is not None and app.snapshot is not None, 30, "backend")
        player = app.desk.backend.player
        watcher = app.desk.backend.watcher
        start = time.monotonic()
        for hours in (1, 6, 12, 18, 24):
            await until(lambda h=hours: watcher.sides["source"].history.total_seen >= h * 3600
                        or player.ended.is_set(), 3600, f"{hours} h of samples")
            await pilot.pause()
            marks.append((hours, rss_mb(), watcher.sides["source"].history.total_seen,
                          watcher._event_seq))
            print(f"{hours:>3} h  RSS {marks[-1][1]:6.1f} MB  samples {marks[-1][2]:>6}  "
                  f"events {marks[-1][3]:>6}  ({time.monotonic() - start:.0f} s)", flush=True)
        await app.action_quit()
    return marks


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.jsonl"
        day_recording(path, SAMPLES, event_every=SAMPLES // EVENTS)
        marks = asyncio.run(play(path, 1000))
    at = {h: rss for h, rss, _, _ in marks}
    print(f"resident at 24 h: {at[24]:.1f} MB (target <= 120); growth 12 h -> 24 h: "
          f"{at[24] - at[12]:+.1f} MB (target <= 2)")


if __name__ == "__main__":
    main()
