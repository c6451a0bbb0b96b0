"""Real QEMU faults: a side killed at each phase, restarted on its socket, a cut link, a QEMU
that stops answering. The watcher must say what happened and keep what it gathered."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from qmigtui.lab.pair import LabConfig
from qmigtui.qmp.errors import NotConnected
from qmigtui.ui.status_pane import StatusPane
from tests.helpers import status_of, wait_for
from tests.ui.conftest import text_of

SLOW = LabConfig(mem_mib=128, working_set_mib=64, dirty_rate_mib_s=40, bandwidth=8 << 20)
QUICK = LabConfig(mem_mib=64, working_set_mib=4, dirty_rate_mib_s=1, bandwidth=64 << 20)
# what the side left alive may show once its peer is gone, by the phase of the kill
SURVIVOR = {
    ("source", "setup"): {"none", "setup", "active", "failed"},
    ("source", "active"): {"active", "failed"},
    ("source", "postcopy-active"): {"postcopy-active", "postcopy-paused"},
    ("source", "completed"): {"completed"},
    ("destination", "setup"): {"setup", "active", "failed", "cancelled", "completed"},
    ("destination", "active"): {"active", "failed", "cancelled", "completed"},
    ("destination", "postcopy-active"): {"postcopy-active", "postcopy-paused", "failed"},
    ("destination", "completed"): {"completed"},
}


async def reach(rig, phase: str) -> None:
    w = rig.watcher
    await rig.controller.start_migration()
    if phase == "setup":
        return
    await wait_for(lambda: w.snapshot.source.status == "active", 20, "active")
    if phase == "active":
        await asyncio.sleep(0.5)
    elif phase == "postcopy-active":
        w.poke(config=True)
        await wait_for(lambda: rig.controller.can("postcopy").ok, 10, "postcopy allowed")
        await rig.controller.start_postcopy()
        await wait_for(lambda: w.snapshot.source.status == "postcopy-active", 20, "postcopy-active")
    elif phase == "completed":
        await wait_for(lambda: all(s.status == "completed" for s in w.snapshot.sides), 60, "completed")


@pytest.mark.parametrize("phase", ["setup", "active", "postcopy-active", "completed"])
@pytest.mark.parametrize("victim", ["source", "destination", "both"])
async def test_kill_9_at_each_phase_is_shown_and_nothing_gathered_is_lost(make_rig, victim, phase):
    config = QUICK if phase == "completed" else SLOW
    rig = await make_rig(config, interval=0.2, capabilities={"postcopy-ram": True},
                         parameters={"max-postcopy-bandwidth": 4 << 20})
    await reach(rig, phase)
    await asyncio.sleep(0.3)
    kept = {n: len(s.history) for n, s in rig.watcher.sides.items()}
    events = len(rig.watcher.snapshot.events)
    killed = ["source", "destination"] if victim == "both" else [victim]
    for role in killed:
        rig.lab.kill(role)
    for role in killed:
        await wait_for(lambda r=role: rig.watcher.snapshot.side(r).connection in ("gone", "reconnecting"),
                       10, f"{role} shown as lost")
        side = rig.watcher.snapshot.side(role)
        assert side.reason, f"no reason given for {role}"
    for role in {"source", "destination"} - set(killed):
        session = rig.watcher.session(role)
        try:
            status = await status_of(session)
        except NotConnected:  # a destination QEMU exits when its incoming migration fails
            assert role == "destination" and phase != "completed"
            await wait_for(lambda: rig.watcher.snapshot.destination.connection != "connected", 5,
                           "the ended destination shown")
            continue
        assert status in SURVIVOR[(role, phase)]
    for name, count in kept.items():  # what was gathered stays
        assert len(rig.watcher.sides[name].history) >= count
    assert len(rig.watcher.snapshot.events) >= min(events, 1000)
    assert all(not t.done() for t in rig.watcher._tasks), "a watcher loop died"


async def test_qemu_restarted_on_the_same_socket_is_reconnected_and_said_so(make_rig):
    rig = await make_rig(QUICK, interval=0.2)
    states: list[tuple[str, str | None]] = []
    rig.source.hub.on_state(lambda st, why: states.append((st.value, why)))
    rig.lab.kill("source")
    await wait_for(lambda: rig.watcher.snapshot.source.connection != "connected", 10, "lost")
    rig.lab.restart("source")
    await wait_for(lambda: rig.watcher.snapshot.source.connection == "connected"
                   and rig.source.hub.connects == 2, 20, "reconnected to the new QEMU")
    assert any(st in ("reconnecting", "gone") and why for st, why in states)
    await wait_for(lambda: rig.watcher.snapshot.source.info is not None
                   and rig.watcher.snapshot.source.error is None, 10, "polling again")
    await wait_for(lambda: "events" in rig.watcher.snapshot.source.capabilities, 10,
                   "its configuration read (after its state)")
    assert rig.watcher.snapshot.source.capabilities.get("events") is False  # a fresh QEMU's config


async def test_link_cut_in_precopy_fails_the_migration_and_says_why(lab_app):
    async with lab_app(SLOW) as (app, pilot, backend):
        await backend.controller.start_migration()
        await wait_for(lambda: app.snapshot.source.status == "active", 20, "active")
        backend.rig.lab.cut_link()
        await wait_for(lambda: app.snapshot.source.status == "failed", 60, "failed")
        await pilot.pause(0.5)
        shown = text_of(app.query_one(StatusPane).rendered)
        assert "failed" in shown and ("error:" in shown or "QEMU said:" in shown)


async def test_a_qemu_that_stops_answering_times_out_keeps_the_ui_alive_and_recovers(lab_app):
    async with lab_app(QUICK) as (app, pilot, backend):
        session = backend.watcher.session("source")
        session.timeout = 1.0
        pid = backend.rig.lab.source.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            await wait_for(lambda: app.snapshot.source.error and "no answer" in app.snapshot.source.error,
                           10, "a timeout shown")
            await pilot.press("2", "3", "1")  # the UI still answers keys
            assert "no answer from source" in text_of(app.query_one(StatusPane).rendered)
        finally:
            os.kill(pid, signal.SIGCONT)
        await wait_for(lambda: app.snapshot.source.error is None and app.snapshot.source.connected,
                       20, "polling again after SIGCONT")
