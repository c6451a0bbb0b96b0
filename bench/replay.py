"""Replay of a 24-hour recording: time to first paint and resident memory.

Generates a recording of 86,400 query-migrate samples (24 h at 1 Hz, with a
MIGRATION_PASS event every 30 s), then, in a fresh process each time:

- opens the app on it (headless, 120x40) and times the first paint with data;
- jumps to the end (every line read and fed through the watcher, one poll answer in
  four kept for the graphs) and reports the time that took and the resident size.

Targets (issue 5): start under 2 s, under 150 MB resident.

    python bench/replay.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, day_recording

SAMPLES = 86_400


CHILD = r'''
import asyncio, sys, time
t0 = float(sys.argv[2])
from qmigtui.desk.opening import open_replay
from qmigtui.ui.app import MigrationApp

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

async def main():
    app = MigrationApp(lambda: open_replay(sys.argv[1], 1.0))
    async with app.run_test(size=(120, 40)) as pilot:
        while not (app.snapshot and app.snapshot.source.info is not None):
            await asyncio.sleep(0.01)
        await pilot.pause()
        first = time.time() - t0
        start_rss = rss_mb()
        t1 = time.time()
        player = app.desk.backend.player
        player.jump_to(86_400 + 10)
        while not player.ended.is_set():
            await asyncio.sleep(0.05)
        await pilot.pause()
        jumped = time.time() - t1
        print(f"{first:.2f} {start_rss:.0f} {jumped:.2f} {rss_mb():.0f}", flush=True)
        await app.action_quit()
asyncio.run(main())
'''


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.jsonl"
        t = time.time()
        day_recording(path, SAMPLES)
        size = path.stat().st_size / 1e6
        print(f"generated {SAMPLES} samples ({size:.0f} MB) in {time.time() - t:.1f} s")
        print(f"{'run':>4} {'first paint s':>14} {'RSS at start MB':>16} {'read to end s':>14} "
              f"{'RSS at end MB':>14}")
        for run in range(3):
            out = subprocess.run([sys.executable, "-c", CHILD, str(path), repr(time.time())],
                                 capture_output=True, text=True, cwd=ROOT,
                                 env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=600)
            if out.returncode:
                sys.exit(out.stderr[-2000:])
            first, rss0, jumped, rss1 = out.stdout.split()
            print(f"{run + 1:>4} {first:>14} {rss0:>16} {jumped:>14} {rss1:>14}")
        print("targets: first paint < 2 s, resident < 150 MB")


if __name__ == "__main__":
    main()
