"""Real migrations between two real QEMUs on this machine (the lab), through the real QMP socket."""

from __future__ import annotations

import asyncio

import pytest

from qmigtui.control.outcomes import ControlError
from qmigtui.lab.pair import LabConfig
from qmigtui.model.records import parse_record
from qmigtui.qmp.session import ConnState
from qmigtui.training.scenarios import break_postcopy
from tests.helpers import status_of, wait_for


async def test_precopy_walks_setup_active_completed_by_events_and_polling(make_rig):
    rig = await make_rig(LabConfig(mem_mib=128, working_set_mib=8, dirty_rate_mib_s=2,
                                   bandwidth=40 << 20))
    polled: list[str] = []
    rig.watcher.subscribe(lambda snap: polled.append(snap.source.status))
    await rig.controller.start_migration()
    await wait_for(lambda: rig.watcher.snapshot.source.status == "completed", 60, "completed")
    await asyncio.sleep(0.2)
    events = [e.data.get("status") for e in rig.watcher.snapshot.events
              if e.side == "source" and e.name == "MIGRATION"]
    assert events[:1] == ["setup"] and "active" in events and events[-1] == "completed"
    walked = [s for i, s in enumerate(polled) if i == 0 or polled[i - 1] != s]
    assert walked.index("active") < walked.index("completed")
    final = parse_record("MigrationInfo", await rig.source.execute("query-migrate"))
    assert final.number("ram.remaining") == 0 and final.number("ram.transferred") > 8 << 20
    assert final.number("downtime") is not None and final.number("total-time") > 0
    assert await status_of(rig.destination) == "completed"
    assert (await rig.destination.execute("query-status"))["status"] == "running"


async def test_guest_dirtying_faster_than_link_does_not_converge_and_cancel_ends_it(make_rig):
    rig = await make_rig(LabConfig(mem_mib=128, working_set_mib=64, dirty_rate_mib_s=40,
                                   bandwidth=8 << 20))
    await rig.controller.start_migration()
    await wait_for(lambda: (rig.watcher.snapshot.source.passes or 0) >= 2, 40, "a second pass")
    lows = []
    for _ in range(6):
        info = parse_record("MigrationInfo", await rig.source.execute("query-migrate"))
        assert info.text("status") == "active"
        lows.append(info.number("ram.remaining"))
        await asyncio.sleep(0.5)
    assert min(lows) > 4 << 20, f"remaining fell to {min(lows)}: it converges after all"
    await rig.controller.cancel()
    await wait_for(lambda: status_of(rig.source), 1, "a reply")
    await wait_for(lambda: rig.watcher.snapshot.source.status == "cancelled", 20, "cancelled")
    assert await status_of(rig.source) == "cancelled"


async def test_paused_postcopy_recovers_from_both_sides(make_rig):
    # QEMU 7.2's destination now and then fails and exits (or drops its monitor) instead of
    # pausing when the link is cut in postcopy (seen about once in six runs here); that is
    # QEMU's doing, not ours, so the whole scenario runs again on a fresh pair, at most twice.
    from qmigtui.qmp.errors import NotConnected
    from qmigtui.training.scenarios import DestinationLost
    for attempt in (1, 2, 3):
        try:
            await _postcopy_pause_and_recover(make_rig)
            return
        except (NotConnected, DestinationLost) as e:
            if "destination" not in str(e) or attempt == 3:
                raise


async def _postcopy_pause_and_recover(make_rig):
    rig = await make_rig(
        LabConfig(mem_mib=128, working_set_mib=64, dirty_rate_mib_s=40, bandwidth=8 << 20),
        capabilities={"postcopy-ram": True},
        parameters={"max-postcopy-bandwidth": 4 << 20})
    await rig.controller.start_migration()
    await wait_for(lambda: rig.watcher.snapshot.source.status == "active", 20, "active")
    rig.watcher.poke(config=True)
    await wait_for(lambda: rig.controller.can("postcopy").ok, 10, "postcopy allowed")
    await rig.controller.start_postcopy()
    await wait_for(lambda: rig.watcher.snapshot.source.status == "postcopy-active", 20,
                   "postcopy-active")
    await break_postcopy(rig)
    for session in (rig.source, rig.destination):
        await wait_for(lambda s=session: _is(s, "postcopy-paused"), 30, f"{session.name} paused")
    src = parse_record("MigrationInfo", await rig.source.execute("query-migrate"))
    # QEMU 8 and later say why in error-desc; 7.2 says it only on stderr, which the lab keeps
    assert src.text("error-desc") or "paused" in rig.lab.log("source").lower() \
        or "paused" in rig.lab.log("destination").lower()
    assert rig.controller.can("recover").ok
    await rig.source.execute("migrate-set-parameters", {"max-postcopy-bandwidth": 0})
    await rig.controller.recover()
    await wait_for(lambda: _is(rig.source, "completed"), 60, "completed after recovery")
    await wait_for(lambda: _is(rig.destination, "completed"), 30, "destination completed")


async def _is(session, status: str) -> bool:
    return await status_of(session) == status


async def test_destination_killed_mid_migration_fails_source_and_session_survives(make_rig):
    rig = await make_rig(LabConfig(mem_mib=128, working_set_mib=64, dirty_rate_mib_s=40,
                                   bandwidth=8 << 20))
    await rig.controller.start_migration()
    await wait_for(lambda: rig.watcher.snapshot.source.status == "active", 20, "active")
    rig.lab.kill("destination")
    await wait_for(lambda: _is(rig.source, "failed"), 30, "source failed")
    info = parse_record("MigrationInfo", await rig.source.execute("query-migrate"))
    assert info.text("error-desc")
    await wait_for(lambda: rig.destination.hub.state in (ConnState.GONE, ConnState.RECONNECTING), 10,
                   "destination reported lost")
    snap = await wait_for(lambda: rig.watcher.snapshot.source.status == "failed"
                          and rig.watcher.snapshot, 10, "watcher saw failed")
    assert snap.destination.connection in ("gone", "reconnecting")
    assert snap.destination.reason
    assert snap.source.info.text("error-desc") == info.text("error-desc")


async def test_read_only_refuses_every_mutating_migration_command_of_the_schema(make_rig):
    rig = await make_rig(read_only=True, watch=False)
    from qmigtui.model import qapi_spec
    from qmigtui.qmp.errors import ReadOnlyRefused
    from qmigtui.qmp.schema import load_schema
    schema = await load_schema(rig.source)
    sent: list[str] = []
    rig.source.hub.add_tap(lambda kind, msg: sent.append(msg.get("execute")) if kind == "command" else None)
    mutating = [c for c in qapi_spec.COMMANDS if not c.startswith("query-") and schema.has(c)]
    assert "migrate" in mutating and "migrate-set-parameters" in mutating
    for command in mutating:
        with pytest.raises(ReadOnlyRefused):
            await rig.source.execute(command, {})
    assert sent == [], "nothing may reach QEMU"
    assert await status_of(rig.source) == "none"
    with pytest.raises(ControlError, match="read-only"):
        await rig.controller.start_migration()


async def test_schema_of_this_qemu_knows_what_it_lacks(make_rig):
    rig = await make_rig(watch=False)
    from qmigtui.qmp.schema import load_schema
    schema = await load_schema(rig.source)
    assert "postcopy-ram" in schema.capabilities and "events" in schema.capabilities
    assert "max-bandwidth" in schema.parameters
    assert "completed" in schema.statuses and "postcopy-paused" in schema.statuses
    assert schema.has("migrate-recover") and schema.has("query-migrate")
    assert "deprecated" in schema.parameter_features("compress-level")
    if rig.source.hub.qemu_version.startswith("7.2"):
        assert "switchover-ack" not in schema.capabilities
        assert "dirty-limit" not in schema.capabilities
        assert schema.command_arg("migrate", "channels") is None
    assert len(schema.digest()) == 16
