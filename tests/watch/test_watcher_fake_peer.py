"""The Watcher against an in-process fake QMP peer (a test double, not QEMU): orderings a real
QEMU produces only now and then, made to happen every time."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.qmp_session import QmpSession
from qmigtui.watch.watcher import Watcher
from tests.fakeqmp import FakeQmp, watcher_reply
from tests.helpers import wait_for


class StaleAnswer:
    """Answers query-migrate with ``status``; once ``stale`` is set, the next answer comes just
    after a MIGRATION event announcing 'active' and still says 'setup' (an answer QEMU made
    before the change but wrote after the event)."""

    def __init__(self) -> None:
        self.status = "setup"
        self.stale = False

    def __call__(self, cmd: str, args: dict[str, Any]) -> object:
        reply = watcher_reply(cmd)
        if reply is not None:
            return reply
        if cmd == "query-migrate" and self.stale:
            self.stale, self.status = False, "active"
            event = {"event": "MIGRATION", "data": {"status": "active"},
                     "timestamp": {"seconds": 1, "microseconds": 0}}
            return (json.dumps(event) + "\r\n").encode(), {"return": {"status": "setup"}}
        if cmd == "query-migrate":
            return {"return": {"status": self.status}}
        return {"return": {}}


async def test_an_answer_older_than_an_announced_state_does_not_step_the_state_back(tmp_path):
    script = StaleAnswer()
    fake = await FakeQmp(str(tmp_path / "q.sock"), script).start()
    session = QmpSession(parse_endpoint(fake.path), "source")
    await session.connect()
    watcher = Watcher([session], interval=0.2)
    seen: list[str] = []
    watcher.subscribe(lambda snap: seen.append(snap.source.status))
    await watcher.start()
    try:
        await wait_for(lambda: "setup" in seen, 5, "setup")
        script.stale = True
        await wait_for(lambda: "active" in seen and len(seen) > seen.index("active") + 3, 5, "polls")
        after = seen[seen.index("active"):]
        assert after == ["active"] * len(after), f"the state stepped back: {seen}"
    finally:
        await watcher.close()
        await fake.stop()


class Clocked(StaleAnswer):
    """Notes when each query-migrate came."""

    def __init__(self) -> None:
        super().__init__()
        self.polls: list[float] = []

    def __call__(self, cmd: str, args: dict[str, Any]) -> object:
        if cmd == "query-migrate":
            self.polls.append(time.monotonic())
        return super().__call__(cmd, args)


async def test_both_sides_poll_on_one_clock_even_after_an_event_moved_one(tmp_path):
    scripts = {"source": Clocked(), "destination": Clocked()}
    fakes = {name: await FakeQmp(str(tmp_path / f"{name}.sock"), script).start()
             for name, script in scripts.items()}
    sessions = [QmpSession(parse_endpoint(fake.path), name) for name, fake in fakes.items()]
    for session in sessions:
        await session.connect()
    watcher = Watcher(sessions, interval=0.2)
    await watcher.start()
    try:
        await asyncio.sleep(0.5)
        event = {"event": "MIGRATION", "data": {"status": "setup"},
                 "timestamp": {"seconds": 1, "microseconds": 0}}
        await fakes["source"].send((json.dumps(event) + "\r\n").encode())  # an off-clock poll
        moved = time.monotonic()
        await asyncio.sleep(1.2)
        later = [t for t in scripts["source"].polls if t > moved + 0.45]
        assert len(later) >= 3
        gaps = [min(abs(t - d) for d in scripts["destination"].polls) for t in later]
        assert max(gaps) < 0.03, f"source and destination polled apart: {gaps}"
    finally:
        await watcher.close()
        for fake in fakes.values():
            await fake.stop()
