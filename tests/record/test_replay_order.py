"""A replay drops the same overtaken query-migrate answers a live watcher drops: the
recording keeps the order QEMU wrote them in (a synthetic recording, no QEMU)."""

from __future__ import annotations

import asyncio
import json

from qmigtui.desk.opening import open_replay
from qmigtui.record.format import FORMAT, MAGIC
from tests.helpers import wait_for

HEADER = {MAGIC: FORMAT, "qmigtui": "test", "started": 0,
          "sides": {"source": {"endpoint": "unix:/x", "qemu": "7.2.22", "schema": "0" * 16}}}
GREETING = {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 22}}, "capabilities": []}}


def recording(path) -> None:
    lines = [HEADER]

    def put(t: float, kind: str, msg: dict) -> None:
        lines.append({"t": t, "wall": 1e9 + t, "side": "source", "kind": kind, "msg": msg})

    def answered(t: float, n: str, cmd: str, ret: object) -> None:
        put(t, "command", {"execute": cmd, "id": n})
        put(t + 0.001, "response", {"return": ret, "id": n})

    put(0, "greeting", GREETING)
    answered(0.01, "s", "query-qmp-schema", [])
    answered(0.02, "c", "query-migrate-capabilities", [{"capability": "events", "state": True}])
    answered(0.03, "p", "query-migrate-parameters", {"downtime-limit": 300})
    answered(0.5, "q1", "query-migrate", {"status": "setup"})
    put(0.6, "command", {"execute": "query-migrate", "id": "q2"})
    put(0.6005, "event", {"event": "MIGRATION", "data": {"status": "active"},
                          "timestamp": {"seconds": 1, "microseconds": 0}})
    put(0.601, "response", {"return": {"status": "setup"}, "id": "q2"})  # made before: overtaken
    answered(0.602, "q3", "query-migrate", {"status": "active"})
    answered(0.9, "q4", "query-migrate", {"status": "active"})
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")


async def test_the_replay_drops_the_answer_an_event_overtook(tmp_path):
    path = tmp_path / "overtaken.jsonl"
    recording(path)
    desk = await open_replay(path, speed=1.0, interval=0.1)
    backend = desk.backend
    seen: list[str] = []
    backend.watcher.subscribe(lambda snap: seen.append(snap.source.status))
    try:
        history = backend.watcher.sides["source"].history
        await wait_for(lambda: history.total_seen >= 3, 10, "the recorded answers")
        await wait_for(lambda: backend.player.ended.is_set(), 10, "the end")
        await asyncio.sleep(0.2)  # the last answer taken
        after = seen[seen.index("active"):]
        assert after == ["active"] * len(after), seen
        assert history.total_seen == 3  # q1, q3, q4: not q2
    finally:
        await desk.close()
