"""Helpers shared by the bench scripts: the app on a lab pair, headless, and /proc readings."""

from __future__ import annotations

import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qmigtui.desk.opening import open_lab  # noqa: E402
from qmigtui.lab.pair import LabConfig  # noqa: E402
from qmigtui.ui.app import MigrationApp  # noqa: E402

MiB = 1 << 20
TICK = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU of one process (its own threads, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {timeout:g} s")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def app_on_lab(config: LabConfig, interval: float = 1.0, size: tuple[int, int] = (120, 40),
                     **rig: Any) -> AsyncIterator[tuple[MigrationApp, Any]]:
    """The real app (headless, run_test) on a real lab pair; the lab is stopped on the way out."""
    audit = Path(tempfile.mkdtemp(prefix="qmigtui-bench-")) / "audit.log"
    app = MigrationApp(lambda: open_lab(config, interval, audit=audit, **rig))
    try:
        async with app.run_test(size=size) as pilot:
            await until(lambda: app.desk is not None or app.startup_error, 60, "backend")
            if app.startup_error:
                raise RuntimeError(app.startup_error)
            await until(lambda: app.snapshot is not None and app.snapshot.source.capabilities, 20,
                        "first snapshot")
            yield app, pilot
            await app.action_quit()
    finally:
        if app.desk is not None:
            app.desk.let_go()


def day_recording(path: Path, samples: int = 86_400, event_every: int = 30) -> None:
    """A recording of ``samples`` query-migrate answers 1 s apart, a MIGRATION_PASS every
    ``event_every`` samples: what a day of watching at the default interval leaves."""
    header = {"qmigtui-recording": 1, "qmigtui": "bench", "started": 0,
              "sides": {"source": {"endpoint": "unix:/bench/source.qmp", "qemu": "7.2.22",
                                   "schema": "0" * 16}}}
    gib = 1 << 30
    with path.open("w") as f:
        f.write(json.dumps(header) + "\n")

        def put(t: float, kind: str, msg: dict) -> None:
            f.write(json.dumps({"t": t, "wall": 1.7e9 + t, "side": "source", "kind": kind,
                                "msg": msg}, separators=(",", ":")) + "\n")
        put(0, "greeting", {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 22}},
                                    "capabilities": []}})
        for n, (cmd, ret) in enumerate((("query-qmp-schema", []),
                                        ("query-migrate-capabilities",
                                         [{"capability": "events", "state": True}]),
                                        ("query-migrate-parameters", {"downtime-limit": 300}))):
            put(0.01 * (n + 1), "command", {"execute": cmd, "id": f"c{n}"})
            put(0.01 * (n + 1), "response", {"return": ret, "id": f"c{n}"})
        put(0.05, "event", {"event": "MIGRATION", "data": {"status": "active"},
                            "timestamp": {"seconds": 1700000000, "microseconds": 0}})
        for i in range(samples):
            t = 1.0 + i
            if i % event_every == 0:
                put(t - 0.5, "event", {"event": "MIGRATION_PASS", "data": {"pass": i // event_every + 1},
                                       "timestamp": {"seconds": 1700000000 + i, "microseconds": 0}})
            put(t, "command", {"execute": "query-migrate", "id": f"q{i}"})
            remaining = 200e6 - (i % 30) * 6e6
            put(t + 0.001, "response", {"id": f"q{i}", "return": {
                "status": "active", "total-time": i * 1000, "expected-downtime": 900, "setup-time": 5,
                "ram": {"transferred": int(i * 20e6), "remaining": int(remaining), "total": gib,
                        "duplicate": 10, "normal": i * 4000, "normal-bytes": i * 4000 * 4096,
                        "dirty-pages-rate": 5000, "mbps": 167.0, "dirty-sync-count": i // event_every + 1,
                        "postcopy-requests": 0, "page-size": 4096, "multifd-bytes": 0,
                        "pages-per-second": 5000, "precopy-bytes": int(i * 20e6),
                        "downtime-bytes": 0, "postcopy-bytes": 0,
                        "dirty-sync-missed-zero-copy": 0}}})


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    """median [lowest..highest] of the finite values (one value alone: itself)."""
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return "-"
    mid = fmt.format(statistics.median(values))
    return mid if len(values) == 1 else f"{mid} [{fmt.format(min(values))}..{fmt.format(max(values))}]"
