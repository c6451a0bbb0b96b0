"""``qmigtui lab --headless``: one migration on the lab pair, as status lines."""

from __future__ import annotations

import asyncio
import time

from qmigtui.cli.autopilot import decision_line
from qmigtui.control.autopilot import Autopilot
from qmigtui.control.rig import Rig
from qmigtui.lab.pair import LabConfig
from qmigtui.model import units
from qmigtui.model.members import remaining
from qmigtui.policy.catalog import make
from qmigtui.record.recorder import Recorder, closed_on_failure


async def run_headless(config: LabConfig, interval: float = 0.5, limit: float = 600.0,
                       record: str | None = None, append: bool = False,
                       policy: str | None = None) -> int:
    """Migrate once and print a line per poll (and per decision of ``policy``, engaged from
    the start); exit 0 when completed, 1 otherwise."""
    recorder = Recorder(record, append=append) if record else None
    with closed_on_failure(recorder):
        rig = await Rig.start(config, interval, prepare=recorder.attach if recorder else None)
    pilots: list[Autopilot] = []
    try:
        print(f"lab: source {rig.lab.source_socket}  destination {rig.lab.destination_socket}",
              flush=True)
        if policy is not None:
            pilots.append(pilot := Autopilot(rig.controller, make(policy), on_step=lambda step: print(
                f"autopilot  {decision_line(step)}", flush=True)))
            pilot.engage()
            await pilot.prepare()
        await rig.controller.start_migration()
        started = time.monotonic()
        status = "setup"
        info = None
        while time.monotonic() - started < limit:
            await asyncio.sleep(interval)
            info = rig.watcher.snapshot.source.info
            if info is None:
                continue
            status = info.text("status") or "none"
            print(f"{time.monotonic() - started:7.1f}s  {status:<16} "
                  f"transferred {units.format_bytes(info.number('ram.transferred')):>10}  "
                  f"remaining {units.format_bytes(remaining(info)):>10}  "
                  f"{info.number('ram.mbps') or 0:8.1f} Mbit/s", flush=True)
            if status in ("completed", "failed", "cancelled"):
                break
        error = info.text("error-desc") if info is not None else None
        if error:
            print(f"error: {error}")
        return 0 if status == "completed" else 1
    finally:
        for p in pilots:
            await p.disengage()
        await rig.close()
        if recorder is not None:
            recorder.close()
