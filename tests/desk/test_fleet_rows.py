"""A member's row is made again only when its snapshot, its autopilot or its error changed
(a fake desk: snapshots set by hand)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from qmigtui.desk.fleet import Member, Source
from qmigtui.model.records import parse_record
from qmigtui.watch.snapshot import SideState, Snapshot


class FakeDesk:
    """A snapshot and an autopilot, set by the test."""

    def __init__(self, status: str):
        self.snapshot = snapshot(status)
        self.autopilot = SimpleNamespace(name="", engaged=None)


def snapshot(status: str) -> Snapshot:
    side = SideState("source", "/run/x.qmp", "connected")
    return Snapshot((replace(side, info=parse_record("MigrationInfo", {"status": status})),), (), {})


def test_a_row_is_made_again_only_when_what_it_shows_changed():
    desk: Any = FakeDesk("active")
    member = Member(Source("vm", "/run/x.qmp"), desk)
    first = member.row()
    assert member.row() is first and first.state == "active"
    desk.snapshot = snapshot("completed")
    assert member.row().state == "completed"
    again = member.row()
    desk.autopilot = SimpleNamespace(name="kubevirt", engaged=object())
    assert member.row() is not again and member.row().autopilot == "kubevirt"
    gone = Member(Source("vm2", "/run/y.qmp"))
    gone.error = "no such socket"
    assert gone.row().state == "unreachable"
    gone.error = "refused"
    assert gone.row().verdict == "refused"
