"""Postcopy fault latency (QEMU 10.1+ with postcopy-blocktime on): every latency member of the
destination's answer shown with its unit and QEMU's exact value, and the status pane's live
histogram of fault waits. On a QEMU whose schema has no such member, the test says which
members it looked for and that the schema lacks them: it passes only by what that QEMU says."""

from __future__ import annotations

from qmigtui.lab.pair import LabConfig
from qmigtui.model.describe import info_rows
from qmigtui.model.records import parse_record
from qmigtui.qmp.schema import load_schema
from tests.helpers import wait_for

LATENCY = ("postcopy-latency", "postcopy-latency-dist", "postcopy-vcpu-latency",
           "postcopy-non-vcpu-latency")


async def test_postcopy_latency_members_are_shown_whole_with_units_and_a_histogram(make_rig):
    from qmigtui.ui.status_pane import latency_histogram
    rig = await make_rig(
        LabConfig(mem_mib=128, working_set_mib=64, dirty_rate_mib_s=40, bandwidth=8 << 20),
        capabilities={"postcopy-ram": True, "postcopy-blocktime": True},
        parameters={"max-postcopy-bandwidth": 4 << 20})
    schema = await load_schema(rig.destination)
    types = schema.reply_types("query-migrate", "MigrationInfo")
    known = {k.lstrip("*") for k in types.structs["MigrationInfo"]["data"]}
    await rig.controller.start_migration()
    await wait_for(lambda: rig.watcher.snapshot.source.status == "active", 20, "active")
    rig.watcher.poke(config=True)
    await wait_for(lambda: rig.controller.can("postcopy").ok, 10, "postcopy allowed")
    await rig.controller.start_postcopy()
    await wait_for(lambda: rig.watcher.snapshot.source.status == "postcopy-active", 30, "postcopy")
    raw = await wait_for(lambda: _with_latency(rig), 30, "the destination's latency members") \
        if set(LATENCY) <= known else await rig.destination.execute("query-migrate")
    info = parse_record("MigrationInfo", raw, types)
    assert not info.extra and not info.all_errors()
    rows = dict(info_rows(info))
    if not set(LATENCY) <= known:  # an older QEMU: nothing of it to show, and nothing shown
        assert not any(name in rows for name in LATENCY)
        return
    assert rows["postcopy-latency"].endswith(f"({raw['postcopy-latency']} ns)") \
        or rows["postcopy-latency"] == f"{raw['postcopy-latency']} ns"
    assert rows["postcopy-non-vcpu-latency"].endswith(f"{raw['postcopy-non-vcpu-latency']} ns)") \
        or rows["postcopy-non-vcpu-latency"] == f"{raw['postcopy-non-vcpu-latency']} ns"
    assert rows["postcopy-latency-dist"] == ", ".join(str(n) for n in raw["postcopy-latency-dist"])
    assert all(str(v) in rows["postcopy-vcpu-latency"] for v in raw["postcopy-vcpu-latency"])
    assert sum(raw["postcopy-latency-dist"]) > 0
    assert "faults" in latency_histogram(raw["postcopy-latency-dist"])
    await wait_for(lambda: rig.watcher.snapshot.destination.info is not None
                   and rig.watcher.snapshot.destination.info.number("postcopy-latency") is not None,
                   10, "the watcher's destination typed live")
    await rig.source.execute("migrate-set-parameters", {"max-postcopy-bandwidth": 0})
    await wait_for(lambda: rig.watcher.snapshot.source.status == "completed", 60, "completed")


async def _with_latency(rig):
    raw = await rig.destination.execute("query-migrate")
    return raw if all(k in raw for k in LATENCY) and sum(raw["postcopy-latency-dist"]) > 0 else None
