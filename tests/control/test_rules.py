"""May I? The rules over a Snapshot, without I/O: each action in exactly its states, one
wording for read-only, and a reason for every no."""

from __future__ import annotations

import pytest

from qmigtui.control import rules
from qmigtui.model.records import parse_record
from qmigtui.model.states import CANCELLABLE
from qmigtui.watch.snapshot import SideState, Snapshot

STATES = ("none", "setup", "active", "pre-switchover", "device", "postcopy-active", "postcopy-paused",
          "postcopy-recover", "postcopy-device", "completed", "failed", "failing", "cancelled",
          "a-status-of-the-future")


def snap(source: str, destination: str | None = None, *, read_only: bool = False,
         connection: str = "connected", postcopy_ram: bool = True) -> Snapshot:
    def side(name: str, status: str, conn: str = "connected") -> SideState:
        return SideState(name, f"unix:/run/{name}.qmp", conn,
                         info=parse_record("MigrationInfo", {"status": status}),
                         capabilities={"postcopy-ram": postcopy_ram})
    sides = [side("source", source, connection)]
    if destination is not None:
        sides.append(side("destination", destination))
    return Snapshot(tuple(sides), (), {}, read_only=read_only)


def expected(status: str) -> dict[str, bool]:
    """Which migration action each state allows, written out state by state."""
    return {"migrate": status in ("none", "completed", "failed", "cancelled"),
            "cancel": status in CANCELLABLE,
            "postcopy": status == "active",
            "pause": status in ("postcopy-active", "postcopy-recover"),
            "recover": status == "postcopy-paused",
            "continue": status in ("pre-switchover", "device")}


@pytest.mark.parametrize("status", STATES)
def test_each_action_is_allowed_exactly_in_its_states_with_a_reason_for_every_no(status):
    got = {a: rules.permission(a, snap(status)) for a in rules.ACTIONS}
    assert {a: p.ok for a, p in got.items()} == expected(status) | {rules.CHANGE: True}, status
    assert all(p.ok or p.why for p in got.values())


def test_read_only_says_one_thing_for_every_action():
    assert {rules.permission(a, snap("active", read_only=True)).why for a in rules.ACTIONS} == {
        rules.READ_ONLY}


def test_a_source_that_is_not_connected_allows_only_recovery():
    lost = snap("postcopy-paused", "postcopy-paused", connection="reconnecting")
    assert rules.permission("recover", lost).ok
    assert rules.permission("migrate", lost).why == "source is reconnecting"


def test_postcopy_needs_postcopy_ram_and_either_side_paused_is_recoverable():
    assert "postcopy-ram" in rules.permission("postcopy", snap("active", postcopy_ram=False)).why
    both = snap("postcopy-active", "postcopy-paused")
    assert rules.permission("recover", both).ok and rules.permission("pause", both).ok
