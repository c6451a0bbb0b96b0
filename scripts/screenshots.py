"""Regenerate every file in screenshots/ from a live lab run (``make screenshots``).

The real app runs headless on a real lab pair through a migration that will not
converge, is switched to postcopy and has its link cut: main screen at 120x40
and 80x24, the parameters editor, each bundled theme, and the postcopy-paused
recovery view. SVG always; PNG too when rsvg-convert is on the PATH.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qmigtui.control import measure  # noqa: E402
from qmigtui.desk.opening import open_lab  # noqa: E402
from qmigtui.lab.pair import LabConfig  # noqa: E402
from qmigtui.training.scenarios import break_postcopy  # noqa: E402
from qmigtui.ui import themes  # noqa: E402
from qmigtui.ui.app import MigrationApp  # noqa: E402

OUT = ROOT / "screenshots"
MiB = 1 << 20
STUCK = LabConfig(mem_mib=128, working_set_mib=48, dirty_rate_mib_s=40, bandwidth=16 * MiB)


async def until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {timeout:g} s")
        await asyncio.sleep(0.1)


def save(app: MigrationApp, name: str) -> None:
    path = app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
    print(Path(path).relative_to(ROOT))
    if shutil.which("rsvg-convert"):
        subprocess.run(["rsvg-convert", "-o", str(OUT / f"{name}.png"), path], check=False)


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    audit = Path("/tmp") / "qmigtui-screenshots-audit.log"
    app = MigrationApp(lambda: open_lab(STUCK, 0.5, audit=audit, capabilities={"postcopy-ram": True},
                                        parameters={"max-postcopy-bandwidth": 2 * MiB}),
                       theme=themes.DEFAULT, title="lab: a migration that will not converge")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: app.desk is not None and app.snapshot is not None
                    and app.snapshot.source.capabilities, 60, "the lab")
        await measure.footprint(app.desk.backend.controller, (1, 2, 8))
        await app.desk.backend.controller.start_migration()
        await until(lambda: app.snapshot.forecast is not None
                    and app.snapshot.forecast.verdict == "not-converging", 90, "the verdict")
        await asyncio.sleep(1.5)
        await pilot.pause()
        save(app, "main-120x40")
        for theme in sorted(t.name for t in themes.discover()[0]):
            app.theme = theme
            await pilot.pause(0.3)
            save(app, f"theme-{theme}")
        app.theme = themes.DEFAULT
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.5)
        save(app, "main-80x24")
        await pilot.press("question_mark")
        await pilot.pause(0.3)
        save(app, "help-80x24")
        await pilot.press("escape")
        await pilot.press("4")
        params = app.query_one("#parameters")
        params.move_cursor(row=params.get_row_index("downtime-limit"))  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause(0.3)
        save(app, "parameters-editor-80x24")
        await pilot.press("escape", "1")
        await pilot.resize_terminal(120, 40)
        await app.desk.backend.controller.start_postcopy()
        await until(lambda: app.snapshot.source.status == "postcopy-active", 30, "postcopy")
        await asyncio.sleep(1.0)
        await break_postcopy(app.desk.backend.rig)
        await asyncio.sleep(1.0)
        await pilot.pause()
        save(app, "postcopy-paused-120x40")
        await pilot.press("e")
        await pilot.pause(0.3)
        save(app, "postcopy-paused-recovery-steps")
        await pilot.press("escape", "r")
        await pilot.pause(0.5)
        save(app, "recover-dialog-120x40")
        await pilot.press("escape")
        await app.action_quit()
    if app.desk is not None:
        app.desk.let_go()


async def fleet_shot() -> None:
    """Four lab pairs in four states, watched as a fleet, one of them under the autopilot."""
    from functools import partial

    from qmigtui.control.rig import Rig
    from qmigtui.desk.fleet import Fleet, Source
    from qmigtui.desk.opening import open_endpoints
    from qmigtui.lab.pair import LabConfig
    rigs = [await Rig.start(LabConfig(mem_mib=128, working_set_mib=ws, dirty_rate_mib_s=rate,
                                      bandwidth=bw * MiB), 0.5)
            for ws, rate, bw in ((8, 2, 40), (64, 40, 8), (16, 4, 8), (8, 2, 40))]
    try:
        for rig in rigs[:3]:
            await rig.controller.start_migration()
        await until(lambda: rigs[0].watcher.snapshot.source.status == "completed", 60, "one done")
        names = ("web-1", "db-2", "cache-3", "batch-4")
        sources = []
        for name, rig in zip(names, rigs, strict=True):
            await rig.watcher.close()
            sources.append(Source(name, rig.lab.source_socket, rig.lab.destination_socket))

        async def opener(src: Source):  # type: ignore[no-untyped-def]
            desk = await open_endpoints([("source", src.source), ("destination", src.destination or "")],
                                        1.0, False, None, Path("/tmp") / "qmigtui-screenshots-audit.log")
            if src.name == "cache-3":
                desk.autopilot.engage(desk.autopilot.policy("qmigtui"))
            return desk
        app = MigrationApp(None, theme=themes.DEFAULT, title="fleet: 4 VMs",
                           fleet_factory=partial(Fleet.of, sources, opener))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(lambda: app.fleet is not None and any(
                r.verdict == "not-converging" for r in app.fleet.rows()), 90, "a verdict")
            await pilot.pause(1.0)
            save(app, "fleet-120x40")
            await app.action_quit()
    finally:
        for rig in rigs:
            await rig.close()


async def autopilot_shot() -> None:
    """The autopilot on a migration that will not converge: the one confirmation, then the
    plan line after it acted."""
    policy = Path("/tmp") / "qmigtui-screenshots-policy.toml"
    policy.write_text('policy = "qmigtui"\n[objectives]\nmax-downtime = "1s"\nlink = "1G"\n'
                      'postcopy = true\n')
    audit = Path("/tmp") / "qmigtui-screenshots-audit.log"
    app = MigrationApp(lambda: open_lab(STUCK, 0.5, audit=audit, capabilities={"postcopy-ram": True}),
                       theme=themes.DEFAULT, title="lab: a migration that will not converge")
    app.autopilot_policy = str(policy)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: app.desk is not None and app.snapshot is not None
                    and app.snapshot.source.capabilities, 60, "the lab")
        await pilot.press("A")
        await pilot.pause(0.5)
        save(app, "autopilot-confirm-120x40")
        await pilot.press("y")
        await app.desk.backend.controller.start_migration()
        await until(lambda: any(s.decision.changes_vm for s in app.desk.autopilot.steps), 90,
                    "an act of the autopilot")
        await asyncio.sleep(1.5)
        await pilot.pause()
        save(app, "autopilot-120x40")
        await app.action_quit()
    if app.desk is not None:
        app.desk.let_go()


if __name__ == "__main__":
    shots = {"main": main, "autopilot": autopilot_shot, "fleet": fleet_shot}
    for name in sys.argv[1:] or list(shots):  # e.g. `scripts/screenshots.py fleet`
        asyncio.run(shots[name]())
