"""Session behaviour against an in-process fake QMP peer: garbage, silence, reconnect, read-only."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from qmigtui.model import qapi_spec
from qmigtui.model.commands import is_query
from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.errors import CommandRejected, CommandTimeout, EndpointError, NotConnected, ReadOnlyRefused
from qmigtui.qmp.qmp_session import QmpSession
from qmigtui.qmp.session import ConnState
from tests.fakeqmp import FakeQmp
from tests.helpers import wait_for


@pytest.fixture
async def fake(tmp_path):
    replies = {"query-migrate": {"return": {"status": "active"}}}

    def script(cmd, args):
        if cmd == "hang":
            return None
        if cmd == "refuse":
            return {"error": {"class": "GenericError", "desc": "nope\x1b[31m red"}}
        return replies.get(cmd, {"return": {}})
    server = await FakeQmp(str(tmp_path / "fake.sock"), script).start()
    yield server
    await server.stop()


async def test_execute_events_and_taps(fake):
    s = QmpSession(parse_endpoint(fake.path), "source")
    seen = []
    s.hub.add_tap(lambda kind, msg: seen.append(kind))
    await s.connect()
    queue = s.hub.subscribe()
    assert await s.execute("query-migrate") == {"status": "active"}
    await fake.send(b'{"event": "MIGRATION", "data": {"status": "setup"}, '
                    b'"timestamp": {"seconds": 1, "microseconds": 2}}\r\n')
    event = await asyncio.wait_for(queue.get(), 2)
    assert event["data"] == {"status": "setup"}
    assert seen[:1] == ["greeting"] and {"command", "response", "event"} <= set(seen)
    with pytest.raises(CommandRejected) as e:
        await s.execute("refuse")
    assert e.value.desc == "nope red"
    with pytest.raises(CommandTimeout, match="no answer"):
        await s.execute("hang", timeout=0.3)
    assert await s.execute("query-migrate") == {"status": "active"}
    await s.close()


async def test_malformed_message_drops_the_link_reports_why_and_reconnects(fake):
    s = QmpSession(parse_endpoint(fake.path), "source")
    states = []
    s.hub.on_state(lambda st, why: states.append((st, why)))
    await s.connect()
    await fake.send(b'{"event": "MIGRATION", "data": \r\n')
    await wait_for(lambda: s.hub.state is ConnState.RECONNECTING or s.hub.connects > 1, 5, "link dropped")
    assert any(st is ConnState.RECONNECTING and "protocol error" in (why or "") for st, why in states)
    await wait_for(lambda: s.hub.state is ConnState.CONNECTED and s.hub.connects == 2, 5, "reconnected")
    assert await s.execute("query-migrate") == {"status": "active"}
    await s.close()


async def test_a_refused_handshake_is_tried_again_then_reported_in_qemus_words(tmp_path):
    refusal = {"error": {"class": "GenericError", "desc": "not now\x1b[2J"}}
    once = await FakeQmp(str(tmp_path / "once.sock"),
                         handshake=lambda n: refusal if n == 0 else {"return": {}}).start()
    s = QmpSession(parse_endpoint(once.path), "source")
    await s.connect()
    assert once.received.count("qmp_capabilities") == 2
    await s.close()
    await once.stop()
    never = await FakeQmp(str(tmp_path / "never.sock"), handshake=lambda n: refusal).start()
    s = QmpSession(parse_endpoint(never.path), "source", reconnect=False)
    with pytest.raises(EndpointError) as e:
        await s.connect()
    assert str(e.value).endswith("QEMU refused the QMP handshake (not now)")
    assert never.received.count("qmp_capabilities") == 2
    await never.stop()


async def test_a_first_message_that_is_no_greeting_is_tried_again_then_reported_as_before(tmp_path):
    import json

    from tests.fakeqmp import GREETING
    good = json.dumps(GREETING).encode() + b"\r\n"
    stale = b'{"return": {}, "id": "7"}\r\n'  # an answer meant for an earlier client, say
    once = await FakeQmp(str(tmp_path / "once.sock"), greeting=lambda n: stale if n == 0 else good).start()
    s = QmpSession(parse_endpoint(once.path), "source")
    await s.connect()
    assert len(once.writers) == 2
    await s.close()
    await once.stop()
    never = await FakeQmp(str(tmp_path / "never.sock"), greeting=stale).start()
    s = QmpSession(parse_endpoint(never.path), "source", reconnect=False)
    with pytest.raises(EndpointError, match="not a QMP monitor") as e:
        await s.connect()
    assert "\n" not in str(e.value) and len(never.writers) == 2
    await never.stop()


async def test_a_greeting_then_silence_says_so_not_that_another_client_holds_the_monitor(tmp_path):
    mute = await FakeQmp(str(tmp_path / "mute.sock"), handshake=lambda n: None).start()
    s = QmpSession(parse_endpoint(mute.path), "source", reconnect=False, greeting_timeout=0.5)
    with pytest.raises(EndpointError) as e:
        await s.connect()
    said = str(e.value)
    assert "sent its QMP greeting, then did not answer qmp_capabilities within 0.5 s" in said
    assert "another client" not in said and "no QMP greeting" not in said and "\n" not in said
    assert mute.received == ["qmp_capabilities"]
    await mute.stop()


async def test_peer_gone_then_back_on_the_same_socket(tmp_path):
    path = str(tmp_path / "bounce.sock")
    first = await FakeQmp(path).start()
    s = QmpSession(parse_endpoint(path), "source", max_backoff=0.3)
    await s.connect()
    await first.stop()
    Path(path).unlink(missing_ok=True)  # Python 3.13's server removes it on close; older ones do not
    await wait_for(lambda: s.hub.state is ConnState.GONE, 5, "gone")
    assert "no such socket" in s.hub.last_error
    with pytest.raises(NotConnected):
        await s.execute("query-migrate")
    second = await FakeQmp(path).start()
    await wait_for(lambda: s.hub.state is ConnState.CONNECTED, 5, "back")
    await s.close()
    await second.stop()


async def test_read_only_sends_no_mutating_command_of_migration_json(fake):
    s = QmpSession(parse_endpoint(fake.path), "source", read_only=True)
    await s.connect()
    mutating = [c for c in qapi_spec.COMMANDS if not is_query(c)]
    assert len(mutating) >= 20
    for command in mutating:
        with pytest.raises(ReadOnlyRefused):
            await s.execute(command)
    assert await s.execute("query-migrate") == {"status": "active"}
    assert fake.received == ["qmp_capabilities", "query-migrate"]
    await s.close()
