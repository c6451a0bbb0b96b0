"""Start-up: ``qmigtui --version``, and time to first paint of the app on a live endpoint.

The second starts a fresh Python process that opens the real app (headless,
120x40) on a running lab QEMU's monitor; the clock runs from just before the
process is spawned to the first screen refresh showing the connected source.

Targets (issue 9): <= 0.3 s and <= 1.0 s.

    python bench/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from _common import ROOT, median, pct

from qmigtui.lab.pair import Lab, LabConfig

CHILD = r'''
import asyncio, sys, time
from qmigtui.desk.opening import open_endpoints
from qmigtui.ui.app import MigrationApp

async def main():
    app = MigrationApp(lambda: open_endpoints([("source", sys.argv[1])], 1.0, False,
                                              audit=sys.argv[2]))
    async with app.run_test(size=(120, 40)) as pilot:
        while not (app.snapshot and app.snapshot.source.info is not None):
            await asyncio.sleep(0.005)
        done = asyncio.get_running_loop().create_future()
        app.call_after_refresh(lambda: done.set_result(time.time()))
        print(await done, flush=True)
        await app.action_quit()
asyncio.run(main())
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    version = []
    for _ in range(args.runs):
        t = time.time()
        subprocess.run([sys.executable, "-m", "qmigtui", "--version"], check=True, env=env,
                       capture_output=True)
        version.append(time.time() - t)
    lab = Lab(LabConfig(mem_mib=64, working_set_mib=8, dirty_rate_mib_s=2)).start()
    paint = []
    try:
        for _ in range(args.runs):
            t = time.time()
            out = subprocess.run([sys.executable, "-c", CHILD, str(lab.source_socket),
                                  str(lab.dir / "audit.log")],
                                 check=True, env=env, capture_output=True, text=True, timeout=60)
            paint.append(float(out.stdout.split()[-1]) - t)
    finally:
        lab.stop()
    print(f"{'':<34} {'median s':>9} {'p90 s':>7}")
    print(f"{'qmigtui --version':<34} {median(version):9.3f} {pct(version, 90):7.3f}")
    print(f"{'first paint on a live endpoint':<34} {median(paint):9.3f} {pct(paint, 90):7.3f}")
    print("targets: --version <= 0.3 s, first paint <= 1.0 s")


if __name__ == "__main__":
    main()
