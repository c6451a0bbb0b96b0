"""A hostile or broken QMP peer (an in-process fake, named so) against the real app.

Malformed JSON, a wrong greeting, unknown events, wrong types, huge numbers,
very long strings, a flood of events, a close in the middle of a message: the
app says what happened for that side and keeps running, within bounded memory.
"""

from __future__ import annotations

import asyncio
import json
import resource

import pytest

from qmigtui.desk.opening import open_endpoints
from qmigtui.qmp.errors import EndpointError
from qmigtui.ui.app import MigrationApp
from qmigtui.ui.events_pane import EventsPane
from qmigtui.ui.status_pane import StatusPane
from tests.fakeqmp import FakeQmp, watcher_reply
from tests.helpers import wait_for
from tests.ui.conftest import text_of


class Peer:
    """What the fake answers; tests change ``migrate`` to send wrong things."""

    def __init__(self) -> None:
        self.migrate: object = {"return": {"status": "active", "ram": {"transferred": 1, "remaining": 2,
                                                                        "total": 3}}}

    def __call__(self, cmd: str, args: dict) -> object:
        reply = watcher_reply(cmd)
        if reply is not None:
            return reply
        if cmd == "query-migrate":
            return self.migrate
        return {"return": {}}


@pytest.fixture
async def peer(tmp_path):
    script = Peer()
    server = await FakeQmp(str(tmp_path / "hostile.sock"), script).start()
    server.peer = script
    yield server
    await server.stop()


async def run_app(peer, tmp_path):
    app = MigrationApp(lambda: open_endpoints([("source", peer.path)], 0.2, False,
                                              audit=tmp_path / "audit.log"))
    return app


async def started(app):
    await wait_for(lambda: app.desk is not None and app.snapshot is not None
                   and app.snapshot.source.info is not None, 20, "first snapshot")


async def test_wrong_greeting_is_one_line_and_nothing_opens(tmp_path):
    server = await FakeQmp(str(tmp_path / "g.sock"), greeting=b'{"hello": "world"}\r\n').start()
    try:
        with pytest.raises(EndpointError) as e:
            await open_endpoints([("source", server.path)], 1.0, False, audit=tmp_path / "a.log")
        assert "\n" not in str(e.value) and "QMP" in str(e.value)
    finally:
        await server.stop()


async def test_malformed_json_and_a_close_mid_message_show_a_protocol_error_and_reconnect(peer, tmp_path):
    app = await run_app(peer, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app)
        await peer.send(b'{"event": "MIGRATION", "data": {"sta\r\n')
        await wait_for(lambda: "protocol error" in text_of(app.query_one(StatusPane).rendered), 5,
                       "protocol error shown")
        await wait_for(lambda: app.snapshot.source.connection == "connected", 10, "reconnected")
        for w in list(peer.writers):  # half a message, then the door
            w.write(b'{"return": {"status": "act')
            w.close()
        await wait_for(lambda: app.snapshot.source.connection != "connected", 5, "link lost")
        await wait_for(lambda: app.snapshot.source.connection == "connected", 10, "back again")
        await pilot.press("2", "5", "1")
        assert app.is_running
        await app.action_quit()


async def test_unknown_events_wrong_types_huge_numbers_and_long_strings_are_shown_not_fatal(peer, tmp_path):
    app = await run_app(peer, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app)
        long = "x" * 1_000_000
        await peer.send(json.dumps({"event": "SOMETHING_NEW", "data": {"why": long, "n": 2**80},
                                    "timestamp": {"seconds": 1, "microseconds": 0}}).encode() + b"\r\n")
        peer.peer.migrate = {"return": {"status": 5, "ram": "lots", "total-time": 2**90,
                                        "error-desc": long, "downtime": -1, "new-thing": [1, 2]}}
        await wait_for(lambda: any(e.name == "SOMETHING_NEW" for e in app.snapshot.events), 5, "event")
        await pilot.pause(1.0)
        shown = text_of(app.query_one(StatusPane).rendered)
        assert len(shown) < 20_000  # a megabyte string is cut, not drawn
        assert any("SOMETHING_NEW" in line.text for line in app.query_one(EventsPane).lines)
        peer.peer.migrate = {"return": {"status": "active", "ram": {"transferred": 2**70,
                                                                    "remaining": 0, "total": 1}}}
        await pilot.pause(0.6)
        await pilot.press("3", "4", "5", "2", "1")
        assert app.is_running
        await app.action_quit()


async def test_a_flood_of_events_keeps_the_app_responsive_and_memory_bounded(peer, tmp_path):
    app = await run_app(peer, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        event = json.dumps({"event": "MIGRATION_PASS", "data": {"pass": 1},
                            "timestamp": {"seconds": 1, "microseconds": 0}}).encode() + b"\r\n"
        batch = event * 1000
        for _ in range(50):  # 10,000 events/s for 5 s
            t = asyncio.get_running_loop().time()
            await peer.send(batch)
            await asyncio.sleep(max(0.0, 0.1 - (asyncio.get_running_loop().time() - t)))
        await pilot.press("5", "1")  # keys still work
        await wait_for(lambda: app.snapshot.source.connection == "connected", 10, "still connected")
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
        assert grew < 100, f"peak resident grew by {grew:.0f} MB during the flood"
        assert len(app.snapshot.events) <= 1000
        assert app.is_running
        await app.action_quit()


@pytest.mark.parametrize("reply", [
    {"status": 5, "ram": {"transferred": 1, "remaining": 2, "total": 3, "postcopy-requests": 0}},
    {"ram": {"transferred": 1, "remaining": 2, "total": 3, "postcopy-requests": 0}},
    {"status": ["active"], "ram": {"transferred": "1", "remaining": None, "total": 3}},
], ids=["status-is-a-number", "status-is-missing", "status-is-a-list"])
async def test_a_wrong_typed_or_missing_status_never_ends_the_app(peer, tmp_path, reply):
    app = await run_app(peer, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app)
        peer.peer.migrate = {"return": reply}
        await wait_for(lambda: app.snapshot.source.info.text("status") is None, 5, "the bad answer taken")
        await pilot.pause(0.5)
        for key in ("1", "2", "3", "4", "5", "6", "1", "e", "escape", "a"):
            await pilot.press(key)
        await pilot.pause(0.3)
        assert app.is_running and app.snapshot.source.status == "none"
        assert "SOURCE" in text_of(app.query_one(StatusPane).rendered)
        await app.action_quit()


async def test_a_schema_too_large_to_read_is_said_and_not_asked_again_in_a_loop(tmp_path):
    huge = (b'{"return": [' + b",".join([b'{"name": "t%d", "meta-type": "builtin", "json-type": "int"}'
                                         % i for i in range(200_000)]) + b"]}\r\n")
    assert len(huge) > 10 << 20

    def script(cmd: str, args: dict) -> object:
        return huge if cmd == "query-qmp-schema" else Peer()(cmd, args)
    server = await FakeQmp(str(tmp_path / "huge.sock"), script).start()
    app = MigrationApp(lambda: open_endpoints([("source", server.path)], 0.2, False,
                                              audit=tmp_path / "audit.log"))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app)
            said = "query-qmp-schema: QEMU's answer is larger than 10 MiB"
            await wait_for(lambda: said in text_of(app.query_one(StatusPane).rendered), 10, "said")
            await pilot.pause(3.0)  # five polls and more: none asks for the schema again
            assert len(server.writers) == 2  # the first connection, and the one after the break
            assert server.received.count("query-qmp-schema") == 1
            assert any(said in message for _, _, message in app.messages)  # in the log (l) too
            assert app.is_running
            await app.action_quit()
    finally:
        await server.stop()
