"""What watching a fleet costs: 50 and 200 migrations at 1 s, side by side with one.

The app runs headless (120x40) in this process with the fleet view first. The watched
migrations are two real lab pairs (four real QEMUs, migrating) and fake QMP peers (test
doubles, in a child process of their own so their CPU is not counted) that answer like an
active precopy and send a MIGRATION event now and then.  Printed for 1, 50 and 200 watched
(--sizes), median [lowest..highest] over --repeat runs:

- first paint: from the app's start to every row drawn with its state;
- CPU of this process over the measuring window (% of one core), from WARM_S seconds after
  the first paint (each VM's schema and the one-off measurements of a migration's start
  are behind it);
- resident memory;
- event to screen: from a peer writing a MIGRATION event to the fleet view showing its new
  state (median and p95).

Targets: with 50 watched (issue 20) <= 5 % of a core, <= 150 MB resident, p95
event-to-screen <= 50 ms, first paint <= 1.5 s; with 200 (issue 28) <= 10 % of a core,
<= 300 MB, first paint <= 2 s, p95 event-to-screen <= 50 ms.

    python bench/fleet.py [--seconds 30] [--repeat 3] [--sizes 1,50,200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from _common import ROOT, MiB, cpu_seconds, median, pct, rss_mb, spread, until

sys.path.insert(0, str(ROOT))

from qmigtui.control.rig import Rig
from qmigtui.desk.fleet import Fleet, Source
from qmigtui.desk.opening import open_endpoints
from qmigtui.lab.pair import LabConfig
from qmigtui.ui.app import MigrationApp
from qmigtui.ui.fleet_screen import FleetScreen

WARM_S = 10.0  # seconds between the first paint and the measuring window
PROFILE = os.environ.get("QMIGTUI_BENCH_PROFILE")  # a file for the window's cProfile stats
STUCK = LabConfig(mem_mib=128, working_set_mib=64, dirty_rate_mib_s=40, bandwidth=8 * MiB)


def peers_main(directory: str, count: int, log: str, ready: Any, seconds: float) -> None:
    """The fake peers: each an active precopy; every 0.2 s one of them (at random) announces
    a new state with a MIGRATION event, written down with the time it was sent."""
    from tests.fakeqmp import FakeQmp, watcher_reply

    async def main() -> None:
        started = time.monotonic()
        states: dict[int, str] = {}

        def script(n: int, cmd: str, args: dict[str, Any]) -> Any:
            if (known := watcher_reply(cmd)) is not None:
                return known
            if cmd == "query-migrate":
                left = max(0, 512 * MiB - int((time.monotonic() - started) * 8 * MiB))
                return {"return": {"status": states.get(n, "active"), "total-time": 1000,
                                   "ram": {"transferred": 512 * MiB - left, "remaining": left,
                                           "total": 512 * MiB, "mbps": 67.1, "dirty-sync-count": 1,
                                           "page-size": 4096, "duplicate": 0, "normal": 0}}}
            if cmd == "query-dirty-rate":  # the app measures once at a migration's start
                return {"return": {"status": "measured", "dirty-rate": 4, "mode": "page-sampling",
                                   "start-time": 0, "calc-time": 1, "sample-pages": 4096}}
            return {"return": {}}
        peers = [await FakeQmp(f"{directory}/peer-{n}.qmp", partial(script, n)).start()
                 for n in range(count)]
        ready.set()
        with open(log, "w") as out:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                n = random.randrange(count)
                status = "pre-switchover" if states.get(n, "active") == "active" else "active"
                states[n] = status
                event = {"event": "MIGRATION", "data": {"status": status},
                         "timestamp": {"seconds": int(time.time()), "microseconds": 0}}
                sent = time.time()
                with contextlib.suppress(ConnectionError):  # a client that went (a reconnect)
                    await peers[n].send(json.dumps(event).encode() + b"\r\n")
                out.write(f"{sent} peer-{n} {status}\n")
                out.flush()
                counts: dict[str, int] = {}  # what the app asked, for a look at its cost
                for p in peers:
                    for cmd in p.received:
                        counts[cmd] = counts.get(cmd, 0) + 1
                Path(log + ".commands").write_text(json.dumps(counts))
        for p in peers:
            await p.stop()
    asyncio.run(main())


async def measure(fakes: int, real: int, seconds: float, tmp: Path) -> dict[str, float]:
    log = tmp / f"events-{fakes}.log"
    ready = multiprocessing.Event()
    child = multiprocessing.Process(target=peers_main, args=(str(tmp), fakes, str(log), ready,
                                                             seconds + 60))
    child.start()  # before any QMP connection: a forked child would hold the rigs' monitors
    rigs = []
    try:
        rigs += [await Rig.start(STUCK, 1.0) for _ in range(real)]
        ready.wait(30)
        for rig in rigs:
            await rig.controller.start_migration()
            await rig.watcher.close()  # the fleet takes the monitors
        sources = [Source(f"lab-{i}", r.lab.source_socket, r.lab.destination_socket)
                   for i, r in enumerate(rigs)]
        sources += [Source(f"peer-{n}", str(tmp / f"peer-{n}.qmp")) for n in range(fakes)]

        async def opener(src: Source):  # type: ignore[no-untyped-def]
            pairs = [("source", src.source)] + ([("destination", src.destination)]
                                                if src.destination else [])
            return await open_endpoints(pairs, 1.0, False, None, None, no_audit=True)

        changes: list[tuple[str, str, float]] = []  # (VM, state, when the screen showed it)
        t0 = time.monotonic()
        app = MigrationApp(None, fleet_factory=partial(Fleet.of, sources, opener))
        async with app.run_test(size=(120, 40)):
            await until(lambda: isinstance(app.screen, FleetScreen) and len(app.screen.shown) == len(sources)
                        and all(r.state not in ("connecting", "none", "") for r in app.screen.shown),
                        60, "every row")
            first_paint = time.monotonic() - t0
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            redraw = screen.redraw
            last: dict[str, str] = {}

            def timed() -> None:  # when each new state reaches the screen
                redraw()
                now = time.time()
                for r in screen.shown:
                    if last.get(r.name) != r.state:
                        last[r.name] = r.state
                        changes.append((r.name, r.state, now))
            screen.redraw = timed  # type: ignore[method-assign]
            await asyncio.sleep(WARM_S)  # the first poll's schema, the start's measurements
            c0, w0, wall0 = cpu_seconds(), time.monotonic(), time.time()
            profiler = cProfile.Profile() if PROFILE else None
            if profiler is not None:
                profiler.enable()
            await asyncio.sleep(seconds)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(PROFILE)
            cpu = (cpu_seconds() - c0) / (time.monotonic() - w0) * 100
            rss = rss_mb()
            await app.action_quit()
        lags = []
        for line in log.read_text().splitlines():
            sent, name, status = line.split()
            if not wall0 <= float(sent) <= wall0 + seconds - 1:
                continue
            shown = next((t for n, st, t in changes if n == name and st == status and t >= float(sent)),
                         None)
            if shown is not None:
                lags.append((shown - float(sent)) * 1000)
        return {"first_paint": first_paint, "cpu": cpu, "rss": rss,
                "lag_median": median(lags) if lags else float("nan"),
                "lag_p95": pct(lags, 95) if lags else float("nan"), "events": len(lags)}
    finally:
        child.terminate()
        child.join(10)
        for rig in rigs:
            await rig.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--sizes", default="1,50,200", help="how many watched, comma-separated; "
                    "past one, two of them are real lab pairs (4 QEMUs)")
    args = ap.parse_args()
    results: dict[str, list[dict[str, float]]] = {}
    for size in (int(n) for n in args.sizes.split(",")):
        real = 0 if size < 4 else 2
        label = f"{size} watched" + (f" ({2 * real} real QEMUs)" if real else "")
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                print(f"measuring {label} ...", file=sys.stderr, flush=True)
                results.setdefault(label, []).append(
                    asyncio.run(measure(size - real, real, args.seconds, Path(tmp))))
    print(f"{'':28} {'first paint s':>18} {'CPU % core':>16} {'RSS MB':>14} "
          f"{'event→screen median':>20} {'p95 ms':>16}")
    for label, runs in results.items():
        def col(key: str, fmt: str = "{:.1f}", runs: list[dict[str, float]] = runs) -> str:
            return spread([r[key] for r in runs], fmt)
        print(f"{label:28} {col('first_paint', '{:.2f}'):>18} {col('cpu'):>16} "
              f"{col('rss', '{:.0f}'):>14} {col('lag_median', '{:.0f}'):>20} "
              f"{col('lag_p95', '{:.0f}'):>16}  ({sum(r['events'] for r in runs):.0f} events)")
    print("targets: 50 watched: first paint <= 1.5 s, <= 5 % of a core, <= 150 MB, p95 <= 50 ms; "
          "200 watched: first paint <= 2 s, <= 10 % of a core, <= 300 MB, p95 <= 50 ms")


if __name__ == "__main__":
    main()
