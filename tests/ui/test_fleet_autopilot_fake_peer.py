"""--autopilot on the fleet view, against fake QMP peers (test doubles, not QEMU): each VM is
opened with a policy of its own engaged, none on a read-only one; its row names the policy."""

from __future__ import annotations

from qmigtui.cli.fleet import FleetOptions, fleet_opener
from qmigtui.desk.fleet import Member, Source, row_of
from qmigtui.ui.fleet_table import cells
from tests.control.test_record_keeping import Settable
from tests.fakeqmp import FakeQmp


async def test_each_vm_of_the_fleet_gets_its_own_policy(tmp_path):
    fakes = [await FakeQmp(str(tmp_path / f"{n}.sock"), Settable()).start() for n in ("a", "b")]
    try:
        opener = fleet_opener(FleetOptions([], autopilot="kubevirt", no_audit=True), 0.2, None)
        desks = [await opener(Source(n, f.path)) for n, f in zip("ab", fakes, strict=True)]
        policies = [d.autopilot.engaged for d in desks]
        assert [p.name for p in policies if p is not None] == ["kubevirt", "kubevirt"]
        assert policies[0] is not policies[1]  # each its own state
        sources = [Source(n, f.path) for n, f in zip("ab", fakes, strict=True)]
        rows = [row_of(Member(src, d)) for src, d in zip(sources, desks, strict=True)]
        assert [r.autopilot for r in rows] == ["kubevirt", "kubevirt"] and rows[0].matches("kubev")
        assert "kubevirt" in cells(rows[0])
        await desks[1].autopilot.disengage()
        assert row_of(Member(sources[1], desks[1])).autopilot == ""
        for desk in desks:
            await desk.close()
        read_only = fleet_opener(FleetOptions([], autopilot="kubevirt", read_only=True,
                                              no_audit=True), 0.2, None)
        desk = await read_only(Source("a", fakes[0].path))
        assert desk.autopilot.engaged is None
        await desk.close()
    finally:
        for fake in fakes:
            await fake.stop()
