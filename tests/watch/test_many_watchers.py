"""Many watchers in one process (a fleet): every state first, the big schema reads after,
and QEMUs answering the same introspection share one resolved schema (fake peers, named so)."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from qmigtui.desk.facade import Desk
from qmigtui.desk.fleet import Fleet, Source
from qmigtui.desk.opening import open_endpoints
from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.qmp_session import QmpSession
from qmigtui.qmp.schema import load_schema
from qmigtui.watch import crowd
from qmigtui.watch.watcher import Watcher
from tests.fakeqmp import FakeQmp, watcher_reply
from tests.helpers import wait_for


async def test_a_fleet_draws_every_state_before_reading_schemas_and_shares_equal_ones(tmp_path):
    asked: list[tuple[str, str, float]] = []

    def script(name: str) -> Any:
        def answer(cmd: str, args: dict[str, Any]) -> Any:
            asked.append((name, cmd, time.monotonic()))
            if cmd == "query-migrate":
                return {"return": {"status": "active"}}
            return watcher_reply(cmd) or {"return": {}}
        return answer

    peers = [await FakeQmp(str(tmp_path / f"{n}.sock"), script(n)).start() for n in ("a", "b")]
    watchers = []
    try:
        for peer in peers:
            session = QmpSession(parse_endpoint(peer.path), "source")
            await session.connect()
            w = Watcher([session], 1.0)
            await w.start()
            watchers.append(w)
        await wait_for(lambda: all(w.sides["source"].schema is not None for w in watchers), 10,
                       "both schemas read")
        # the second one watches beside another: its state first, its schema after a pause
        first_state = min(t for n, cmd, t in asked if n == "b" and cmd == "query-migrate")
        first_schema = min(t for n, cmd, t in asked if n == "b" and cmd == "query-qmp-schema")
        assert first_schema - first_state >= crowd.AFTER_S * 0.8
        # and on a clock of its own (a fleet's answers do not all come in one burst)
        since = time.monotonic()
        await wait_for(lambda: sum(cmd == "query-migrate" and t > since for _, cmd, t in asked) >= 8,
                       10, "steady polls")
        ticks = {n: [t for m, cmd, t in asked if m == n and cmd == "query-migrate" and t > since]
                 for n in ("a", "b")}
        gaps = [(b - a) % 1.0 for a, b in zip(ticks["a"], ticks["b"], strict=False)]  # 1/8 s
        assert 0.06 <= statistics.median(gaps) <= 0.5, ticks
        a, b = (w.sides["source"].schema for w in watchers)
        assert a is b, "the same introspection, resolved once"
        again = await load_schema(watchers[0].sides["source"].session)
        assert again is a
    finally:
        for w in watchers:
            await w.close()
        for peer in peers:
            await peer.stop()


async def test_a_fleet_reads_no_schema_until_every_member_was_tried_once(tmp_path):
    """Schemas read while the last members still connect made two hundred rows wait seconds."""
    asked: list[tuple[str, float]] = []

    def answer(cmd: str, args: dict[str, Any]) -> Any:
        asked.append((cmd, time.monotonic()))
        return watcher_reply(cmd) or {"return": {"status": "active"}}

    peers = [await FakeQmp(str(tmp_path / f"{n}.sock"), answer).start() for n in range(3)]
    opened: dict[str, float] = {}

    async def opener(src: Source) -> Desk:
        if src.name == "2":
            await asyncio.sleep(1.5)  # a slow host: the others' schemas wait for its state
        desk = await open_endpoints([("source", src.source)], 1.0, True, no_audit=True)
        opened[src.name] = time.monotonic()
        return desk

    fleet = Fleet.of([Source(str(n), p.path) for n, p in enumerate(peers)], opener)
    opening = asyncio.create_task(fleet.open_all(retry=None))
    try:
        await wait_for(lambda: sum(cmd == "query-qmp-schema" for cmd, _ in asked) == 3, 15,
                       "every schema read")
        first_schema = min(t for cmd, t in asked if cmd == "query-qmp-schema")
        assert first_schema >= opened["2"] + crowd.AFTER_S * 0.8
        assert not crowd.held()
    finally:
        await opening
        await fleet.close()
        for peer in peers:
            await peer.stop()


async def test_no_more_first_reads_at_once_than_allowed():
    """Two hundred schemas asked at once were two hundred answers in memory at once."""
    inside, most = 0, 0

    async def read() -> None:
        nonlocal inside, most
        async with crowd.reading():
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.02)
            inside -= 1

    await asyncio.gather(*(read() for _ in range(12)))
    assert most == crowd.READS_AT_ONCE
