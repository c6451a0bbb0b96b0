"""The autopilot on a real lab pair: a guest that never converges on its own completes under
our policy within the downtime objective; a dry run sends nothing that changes the VM (the
audit log holds only what the operator sent); an operator's command makes it stand down."""

from __future__ import annotations

import asyncio

import pytest

from qmigtui.control.audit import AuditLog, read
from qmigtui.control.autopilot import Autopilot, Step
from qmigtui.lab.pair import LabConfig
from qmigtui.policy.catalog import make
from qmigtui.policy.decision import Act, Why
from qmigtui.policy.objectives import Objectives
from tests.helpers import wait_for

MiB = 1 << 20
# 64 MiB rewritten at 40 MiB/s over an 8 MiB/s cap: never converges with no policy
STUCK = LabConfig(mem_mib=64, working_set_mib=32, dirty_rate_mib_s=40, bandwidth=8 * MiB)


async def test_a_migration_that_never_converges_completes_under_the_autopilot(make_rig, tmp_path):
    rig = await make_rig(STUCK)
    log = AuditLog(tmp_path / "audit.jsonl")
    rig.controller.audit_hooks.append(log)
    objectives = Objectives(max_downtime_ms=1000, link_bytes_per_s=1 << 30)
    steps: list[Step] = []
    pilot = Autopilot(rig.controller, make("qmigtui", objectives), on_step=steps.append)
    pilot.engage()
    try:
        await pilot.prepare()
        await rig.controller.start_migration()
        await wait_for(lambda: rig.watcher.snapshot.source.status.ended, 240, "the end")
    finally:
        await pilot.disengage()
    info = rig.watcher.snapshot.source.info
    assert rig.watcher.snapshot.source.status == "completed", [s.decision for s in steps]
    acted = [s for s in steps if s.decision.changes_vm]
    assert acted and all(s.outcome == "ok" for s in acted), acted
    assert any(s.decision.target == "max-bandwidth" for s in acted)  # the cheapest first
    assert (info.number("downtime") or 0) <= objectives.max_downtime_ms
    lines = [e for e in read(tmp_path / "audit.jsonl") if "command" in e]
    by = {(e["command"], e["by"]) for e in lines}
    assert ("migrate-set-parameters", "autopilot") in by and ("migrate", "operator") in by


@pytest.mark.once  # the runner's own rules: nothing of the QEMU version in them
async def test_a_dry_run_sends_nothing_and_an_operator_makes_it_stand_down(make_rig, tmp_path):
    rig = await make_rig(STUCK)
    log = AuditLog(tmp_path / "audit.jsonl")
    rig.controller.audit_hooks.append(log)
    steps: list[Step] = []
    pilot = Autopilot(rig.controller, make("nova", Objectives(time_scale=0.01)), dry_run=True,
                      on_step=steps.append)
    pilot.engage()
    try:
        await rig.controller.start_migration()
        await wait_for(lambda: any(s.decision.changes_vm for s in steps), 60, "a decision")
        await rig.controller.set_parameter("source", "downtime-limit", "250")  # the operator
        await wait_for(lambda: not pilot.engaged, 10, "standing down")
    finally:
        await pilot.disengage()
        await rig.controller.cancel()
    assert all(s.outcome == "dry run: not sent" for s in steps if s.decision.changes_vm)
    assert steps[-1].decision.act is Act.STAND_DOWN and steps[-1].decision.why is Why.OPERATOR_ACTED
    sent = [e for e in read(tmp_path / "audit.jsonl") if "command" in e]
    assert {e["by"] for e in sent} == {"operator"}
    await asyncio.sleep(0)


# postcopy held to 6 MiB/s, so the guest's 48 MiB take long enough to cut the link midway
SLOW_POSTCOPY = {"max-postcopy-bandwidth": 6 * MiB}


async def test_a_cut_link_pauses_a_postcopy_and_the_autopilot_recovers_it_when_the_link_returns(
        make_rig, tmp_path):
    rig = await make_rig(LabConfig(mem_mib=64, working_set_mib=48, dirty_rate_mib_s=40,
                                   bandwidth=8 * MiB),
                         capabilities={"postcopy-ram": True}, parameters=SLOW_POSTCOPY)
    log = AuditLog(tmp_path / "audit.jsonl")
    rig.controller.audit_hooks.append(log)
    snap = lambda: rig.watcher.snapshot  # noqa: E731
    await rig.controller.start_migration()
    await wait_for(lambda: snap().source.status == "active", 30, "precopy")
    await rig.controller.start_postcopy()  # the operator's, before the autopilot is engaged
    # both sides in postcopy before the cut: a destination still switching over fails for good
    await wait_for(lambda: snap().source.status == "postcopy-active"
                   and snap().destination.status == "postcopy-active", 30, "postcopy on both sides")
    steps: list[Step] = []
    pilot = Autopilot(rig.controller, make("qmigtui", Objectives()), on_step=steps.append)
    pilot.engage()
    try:
        rig.lab.cut_link()
        await wait_for(lambda: snap().source.status.paused and snap().destination.status.paused,
                       30, "both sides paused")
        # the link is still down: the autopilot tries, the source stays paused, it backs off
        await wait_for(lambda: sum(s.decision.act is Act.RECOVER for s in steps) >= 2, 30,
                       "two recovery attempts while the link is down")
        assert snap().source.status.paused
        assert any(s.decision.why is Why.BACK_OFF for s in steps)
        rig.lab.restore_link()  # the network comes back on its own
        await wait_for(lambda: snap().source.status.ended, 180, "the end")
    finally:
        await pilot.disengage()
    assert snap().source.status == "completed", [s.decision for s in steps]
    assert pilot.engaged is False and pilot.stood_down is None
    sent = [(e["command"], e["by"]) for e in read(tmp_path / "audit.jsonl") if "command" in e]
    assert ("migrate-recover", "autopilot") in sent and ("migrate-start-postcopy", "operator") in sent
