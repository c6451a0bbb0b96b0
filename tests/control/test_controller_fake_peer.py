"""The Controller's rules against in-process fake QMP peers (test doubles, not QEMU): what each
action allows in each state, the re-check just before sending, and one send per double press."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from qmigtui.control.ops import ControlError, Controller
from qmigtui.model.recovery import RecoveryAddresses
from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.qmp_session import QmpSession
from qmigtui.watch.watcher import Watcher
from tests.control.test_rules import expected
from tests.fakeqmp import FakeQmp, watcher_reply
from tests.helpers import wait_for

STATES = ("none", "setup", "active", "postcopy-active", "postcopy-paused", "postcopy-recover-setup",
          "postcopy-recover",
          "pre-switchover", "device", "wait-unplug", "cancelling", "cancelled", "completed", "failed")


class Side:
    """One fake QEMU: the status the watcher polls, the status a fresh re-check reads, and
    every command it was sent (a command may be made slow, to overlap two presses)."""

    def __init__(self, status: str = "none", postcopy_ram: bool = False):
        self.status = status
        self.fresh: str | None = None  # what the next query-migrate says (QEMU moved on)
        self.postcopy_ram = postcopy_ram
        self.sent: list[str] = []
        self.held: set[str] = set()  # commands recorded but never answered

    def __call__(self, cmd: str, args: dict[str, Any]) -> object:
        if cmd == "query-migrate-capabilities":
            return {"return": [{"capability": "events", "state": True},
                               {"capability": "postcopy-ram", "state": self.postcopy_ram}]}
        reply = watcher_reply(cmd)
        if reply is not None:
            return reply
        if cmd == "query-migrate":
            if self.fresh is not None:
                self.status, self.fresh = self.fresh, None
            return {"return": {"status": self.status}}
        if cmd.startswith("query-"):
            return {"return": {}}  # other queries (query-kvm …): nothing of interest
        self.sent.append(cmd)
        return None if cmd in self.held else {"return": {}}


@asynccontextmanager
async def pair(tmp_path: Any, source: Side, destination: Side | None = None
               ) -> AsyncIterator[Controller]:
    """A watched pair of fake peers and the Controller over it."""
    fakes, sessions = [], []
    for name, script in (("source", source), ("destination", destination)):
        if script is None:
            continue
        fake = await FakeQmp(str(tmp_path / f"{name}.sock"), script).start()
        fakes.append(fake)
        session = QmpSession(parse_endpoint(fake.path), name)
        await session.connect()
        sessions.append(session)
    watcher = Watcher(sessions, interval=0.1)
    await watcher.start()
    controller = Controller(watcher)
    try:
        await wait_for(lambda: all(s.capabilities for s in watcher.snapshot.sides), 5, "first polls")
        yield controller
    finally:
        await watcher.close()
        for fake in fakes:
            await fake.stop()


def allowed(controller: Controller) -> dict[str, bool]:
    return {a: controller.can(a).ok
            for a in ("migrate", "cancel", "postcopy", "pause", "recover", "continue")}


async def settle(controller: Controller, source: str, destination: str = "none") -> None:
    await wait_for(lambda: controller.status("source") == source
                   and controller.status("destination") == destination, 5, f"{source}/{destination}")


@pytest.mark.parametrize("status", STATES)
async def test_each_action_is_allowed_exactly_in_its_states(tmp_path, status):
    async with pair(tmp_path, Side(status, postcopy_ram=True)) as controller:
        await settle(controller, status)
        got = allowed(controller)
        assert got == expected(status), status
        for action, ok in got.items():
            assert ok or controller.can(action).why, f"{action} refused without a reason"
        if status.startswith("postcopy"):  # QEMU 10 refuses it; on 7.2 it lost the guest
            assert "cannot be cancelled" in controller.can("cancel").why


async def test_postcopy_needs_postcopy_ram_and_recover_needs_either_side_paused(tmp_path):
    async with pair(tmp_path, Side("active", postcopy_ram=False)) as controller:
        await settle(controller, "active")
        assert not controller.can("postcopy").ok
        assert "postcopy-ram" in controller.can("postcopy").why
    async with pair(tmp_path, Side("postcopy-active"), Side("postcopy-paused")) as controller:
        await settle(controller, "postcopy-active", "postcopy-paused")
        assert controller.can("recover").ok and controller.can("pause").ok


@pytest.mark.parametrize(("action", "before", "now", "command"), [
    ("cancel", "active", "completed", "migrate_cancel"),
    ("start_postcopy", "active", "completed", "migrate-start-postcopy"),
    ("pause", "postcopy-active", "completed", "migrate-pause"),
    ("continue_", "pre-switchover", "cancelled", "migrate-continue"),
    ("start_migration", "none", "active", "migrate"),
])
async def test_each_action_asks_qemu_again_and_sends_nothing_when_the_state_moved_on(
        tmp_path, action, before, now, command):
    source = Side(before, postcopy_ram=True)
    async with pair(tmp_path, source) as controller:
        await settle(controller, before)
        source.fresh = now  # the snapshot still says `before`; QEMU has moved on
        args = ("tcp:127.0.0.1:4444",) if action == "start_migration" else ()
        with pytest.raises(ControlError, match=f"source is {now} now; nothing sent"):
            await getattr(controller, action)(*args)
        assert command not in source.sent


async def test_recover_rechecks_the_destination_and_sends_nothing_when_it_is_not_paused(tmp_path):
    source, destination = Side("postcopy-paused"), Side("postcopy-paused")
    async with pair(tmp_path, source, destination) as controller:
        await settle(controller, "postcopy-paused", "postcopy-paused")
        destination.fresh = "postcopy-active"
        with pytest.raises(ControlError, match="destination is postcopy-active"):
            await controller.recover(RecoveryAddresses("tcp:127.0.0.1:4444", "tcp:127.0.0.1:4444"))
        assert not source.sent and not destination.sent


async def test_a_second_press_while_the_first_runs_sends_once(tmp_path):
    source = Side("active")
    source.held.add("migrate_cancel")  # QEMU takes its time to answer the first one
    async with pair(tmp_path, source) as controller:
        await settle(controller, "active")
        first = asyncio.create_task(controller.once("cancel", controller.cancel()))
        await wait_for(lambda: "migrate_cancel" in source.sent, 5, "the first cancel sent")
        with pytest.raises(ControlError, match="already in progress"):
            await controller.once("cancel", controller.cancel())
        first.cancel()
        with contextlib.suppress(asyncio.CancelledError, ControlError):
            await first
        assert source.sent.count("migrate_cancel") == 1
