"""A fleet member that cannot be opened is tried again and joins the view when it can
(a fake opener and fake desks: the real fleet runs on lab pairs in tests/ui/test_fleet.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from qmigtui.desk.fleet import Fleet, Source
from qmigtui.watch.snapshot import SideState, Snapshot
from tests.helpers import wait_for


class FakeDesk:
    """Stands in for a Desk: a snapshot, a subscribe and no autopilot, nothing behind them."""

    snapshot = Snapshot((SideState("source", "/run/x.qmp", "connected"),), (), {})
    autopilot = SimpleNamespace(name="", engaged=None)

    def subscribe(self, listener: Any) -> None:
        pass


async def test_an_unreachable_member_is_tried_again_until_it_opens():
    tries: dict[str, int] = {}

    async def opener(src: Source) -> Any:
        tries[src.name] = tries.get(src.name, 0) + 1
        if src.name == "late" and tries[src.name] < 3:
            raise OSError(f"{src.source}: no such socket")
        return FakeDesk()

    fleet = Fleet.of([Source("late", "/run/late.qmp"), Source("here", "/run/here.qmp")], opener)
    seen: list[tuple[str, str]] = []
    fleet.subscribe(lambda m, snap: seen.append((m.source.name, m.error)))
    task = asyncio.create_task(fleet.open_all(retry=0.05))
    await wait_for(lambda: fleet.members[0].desk is not None, 5, "the late one opened")
    await asyncio.wait_for(task, 5)
    assert tries == {"late": 3, "here": 1}
    assert seen[0] == ("late", "/run/late.qmp: no such socket (trying again every 0.05 s)")
    assert seen.count(seen[0]) == 1, "the same reason is said once"
    assert fleet.members[0].error == "" and fleet.rows()[0].state == "none"


async def test_once_means_once():
    async def opener(src: Source) -> Any:
        raise OSError("refused")
    fleet = Fleet.of([Source("a", "/run/a.qmp")], opener)
    await asyncio.wait_for(fleet.open_all(retry=None), 5)
    assert fleet.members[0].error == "refused" and fleet.rows()[0].state == "unreachable"
