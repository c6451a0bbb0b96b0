"""What the exporter costs: `qmigtui exporter` watching 50 (and 200) migrations at 1 s.

The watched migrations are fake QMP peers (test doubles, in a child process of their own so
their CPU is not counted) answering like an active precopy, with a MIGRATION event now and
then. The exporter runs as operators run it, a process of its own; this script scrapes it
once a second (as Prometheus would) and reads its CPU and memory from /proc. Printed per
size, median [lowest..highest] over --repeat runs:

- CPU of the exporter process over the window (% of one core), after WARM_S seconds;
- resident memory at the end;
- a scrape's duration (p95 of the window's scrapes), the exposition's size.

The scrapes come once a second from the first, with a Prometheus server's headers (OpenMetrics,
gzip), measured from WARM_S on; the size printed is the exposition's, unzipped.

Targets (issue 28): 50 watched: <= 3 % of a core, <= 120 MB, a scrape <= 20 ms at p95;
200 watched: <= 10 % of a core, <= 300 MB.

    python bench/exporter.py [--seconds 30] [--repeat 3] [--sizes 50,200]
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import ROOT, cpu_seconds, median, pct, rss_mb, spread
from fleet import peers_main

from tests.plain_pair import free_port

WARM_S = 10.0  # each VM's schema and first reads are behind the window
PROMETHEUS = {  # what a Prometheus server asks for: OpenMetrics, gzipped
    "Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
              "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip"}


def measure(count: int, seconds: float, tmp: Path) -> dict[str, float]:
    ready = multiprocessing.Event()
    log = tmp / "events.log"
    peers = multiprocessing.Process(target=peers_main, args=(str(tmp), count, str(log), ready,
                                                             seconds + WARM_S + 60))
    peers.start()
    ready.wait(60)
    port = free_port()
    exporter = subprocess.Popen(
        [sys.executable, "-m", "qmigtui", "exporter", str(tmp / "peer-*.qmp"),
         "--listen", f"127.0.0.1:{port}"], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.read().count(b"qmigtui_migration_data_remaining_bytes{") >= count:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or exporter.poll() is not None:
                raise RuntimeError("the exporter did not export every VM")
            time.sleep(0.5)
        asked = urllib.request.Request(url, headers=PROMETHEUS)
        scrapes, size = [], 0
        w0 = c0 = started = time.monotonic()
        while w0 == started or time.monotonic() - w0 < seconds:  # once a second from the start, as
            t = time.perf_counter()  # Prometheus would; measured after WARM_S seconds
            with urllib.request.urlopen(asked, timeout=5) as r:
                size = len(gzip.decompress(r.read()))
            if w0 == started and time.monotonic() - started >= WARM_S:
                c0, w0 = cpu_seconds(exporter.pid), time.monotonic()
            elif w0 != started:
                scrapes.append((time.perf_counter() - t) * 1000)
            time.sleep(max(0.0, 1.0 - (time.perf_counter() - t)))
        cpu = (cpu_seconds(exporter.pid) - c0) / (time.monotonic() - w0) * 100
        return {"cpu": cpu, "rss": rss_mb(exporter.pid), "scrape_p95": pct(scrapes, 95),
                "scrape_median": median(scrapes), "kib": size / 1024}
    finally:
        os.killpg(exporter.pid, signal.SIGTERM)
        exporter.wait(30)
        peers.terminate()
        peers.join(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--sizes", default="50,200")
    args = ap.parse_args()
    print(f"{'watched':>8} {'CPU % core':>16} {'RSS MB':>16} {'scrape p95 ms':>18} {'KiB':>6}")
    for count in (int(n) for n in args.sizes.split(",")):
        runs = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                print(f"measuring {count} watched ...", file=sys.stderr, flush=True)
                runs.append(measure(count, args.seconds, Path(tmp)))
        cpu, rss = spread([r['cpu'] for r in runs]), spread([r['rss'] for r in runs], '{:.0f}')
        print(f"{count:>8} {cpu:>16} {rss:>16} "
              f"{spread([r['scrape_p95'] for r in runs]):>18} {runs[-1]['kib']:6.0f}")
    print("targets: 50 watched <= 3 % of a core, <= 120 MB, scrape p95 <= 20 ms; "
          "200 watched <= 10 % of a core, <= 300 MB")


if __name__ == "__main__":
    main()
