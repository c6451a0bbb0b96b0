"""The fleet view: several real QEMU pairs at once, most urgent first, a filter, a drill-down
into one VM's desk and back; the ordering and the drain's ETA as plain data."""

from __future__ import annotations

from functools import partial

import pytest

from qmigtui.desk.fleet import Fleet, FleetRow, Source, arrange, evacuation, expand
from qmigtui.desk.opening import open_endpoints
from qmigtui.lab.pair import LabConfig
from qmigtui.ui.app import MigrationApp
from qmigtui.ui.fleet_screen import FleetScreen
from tests.helpers import wait_for

MiB = 1 << 20


def row(name: str, state: str, urgency: int, eta: float | None = None, total: float | None = None
        ) -> FleetRow:
    return FleetRow(name, f"/run/{name}.qmp", state, None, None, "", eta, urgency, total)


def test_rows_most_urgent_first_filtered_and_the_drain_in_one_line():
    rows = [row("done-1", "completed", 11, total=20_000), row("stuck", "active", 4, eta=None),
            row("busy", "active", 9, eta=30.0), row("waits", "none", 10),
            row("paused", "postcopy-paused", 1)]
    assert [r.name for r in arrange(rows)] == ["paused", "stuck", "busy", "waits", "done-1"]
    assert [r.name for r in arrange(rows, "name")] == sorted(r.name for r in rows)
    assert [r.name for r in arrange(rows, text="WAIT")] == ["waits"]
    assert "5 VMs: 3 migrating, 1 waiting, 1 done" in evacuation(rows)
    assert "not known yet" in evacuation(rows)  # the stuck one has no ETA
    healthy = [r for r in rows if r.name in ("busy", "waits", "done-1")]
    assert evacuation(healthy).endswith("all done in ~50.0 s at 1 at a time (each waiting one ~20.0 s)")


def test_sources_from_names_globs_and_endpoints(tmp_path):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "vm.qmp").touch()
    named = {"web-1": Source("web-1", "unix:/run/w1.qmp", "tcp:10.0.0.2:4444")}
    got = expand(["web-1", str(tmp_path / "*" / "vm.qmp"), "tcp:10.0.0.9:4444"], named)
    assert [s.name for s in got] == ["web-1", "a/vm", "b/vm", "10.0.0.9:4444"]
    assert expand(["ssh://ops@h7:22/run/qemu/web-2.qmp"], {})[0].name == "h7:22:web-2"
    assert got[0].destination == "tcp:10.0.0.2:4444"


@pytest.mark.once  # the fleet view's own ordering and keys: nothing of the QEMU version in it
async def test_fleet_of_real_pairs_orders_filters_and_drills_down(make_rig, tmp_path):
    done = await make_rig(LabConfig(mem_mib=128, working_set_mib=8, dirty_rate_mib_s=2,
                                    bandwidth=40 * MiB))
    stuck = await make_rig(LabConfig(mem_mib=128, working_set_mib=64, dirty_rate_mib_s=40,
                                     bandwidth=8 * MiB))
    idle = await make_rig(LabConfig(mem_mib=128, working_set_mib=8, dirty_rate_mib_s=2))
    await done.controller.start_migration()
    await stuck.controller.start_migration()
    await wait_for(lambda: done.watcher.snapshot.source.status == "completed", 60, "one completed")
    sources = []
    for name, rig in (("alpha", done), ("bravo", stuck), ("charlie", idle)):
        await rig.watcher.close()  # a QMP monitor serves one client: the fleet's now
        sources.append(Source(name, rig.lab.source_socket, rig.lab.destination_socket))
    sources.append(Source("delta", str(tmp_path / "gone.qmp")))

    async def opener(src: Source):  # type: ignore[no-untyped-def]
        return await open_endpoints([("source", src.source), ("destination", src.destination)]
                                    if src.destination else [("source", src.source)], 0.5, False,
                                    None, str(tmp_path / "audit.log"))
    app = MigrationApp(None, fleet_factory=partial(Fleet.of, sources, opener))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: isinstance(app.screen, FleetScreen), 30, "the fleet view first")
        fleet = app.screen
        await wait_for(lambda: [r.name for r in fleet.shown] == ["delta", "bravo", "charlie", "alpha"],
                       30, "unreachable, running, idle, completed")
        assert fleet.shown[0].state == "unreachable" and "no such socket" in fleet.shown[0].verdict
        assert fleet.shown[3].progress == 1.0
        await pilot.press("slash", *"char")
        await wait_for(lambda: [r.name for r in fleet.shown] == ["charlie"], 5, "filtered")
        await pilot.press("escape")
        await wait_for(lambda: len(fleet.shown) == 4, 5, "the filter cleared")
        await pilot.press("home", "down")  # delta, then bravo
        assert fleet.cursor_name() == "bravo"
        await pilot.press("enter")
        await wait_for(lambda: not isinstance(app.screen, FleetScreen), 5, "bravo's desk")
        bravo = next(m.desk for m in app.fleet.members if m.source.name == "bravo")
        assert app.desk is bravo
        await wait_for(lambda: "source: active" in str(app.query_one("#topline").render()), 10,
                       "bravo's state on the top line")
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, FleetScreen), 5, "back to the fleet")
        await app.action_quit()
    for rig in (done, stuck, idle):
        assert rig.lab.source is not None and rig.lab.source.poll() is None  # the lab's, not ours


def test_more_than_one_source_is_the_fleet_and_dest_goes_with_one():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "qmigtui", "/run/a.qmp", "/run/b.qmp", "--dest",
                           "/run/c.qmp"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--dest and --record go with one source" in done.stderr
    bad = subprocess.run([sys.executable, "-m", "qmigtui", "fleet", "/nowhere/*.qmp"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and bad.stderr.strip() == "qmigtui: /nowhere/*.qmp: no socket matches"
