"""The three kinds of session offer the one protocol, and what differs between them is data
(their traits), not a kind the layers above would compare. No connection is made here."""

from __future__ import annotations

import asyncio

import pytest

from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.errors import NotConnected, ReadOnlyRefused
from qmigtui.qmp.libvirt_session import LibvirtSession
from qmigtui.qmp.qmp_session import QmpSession
from qmigtui.qmp.replay_session import Clock, ReplaySession
from qmigtui.qmp.session import Session
from qmigtui.qmp.sessions import session_for


def _kinds(read_only: bool) -> list[Session]:
    return [QmpSession(parse_endpoint("/tmp/none.sock"), "source", read_only=read_only),
            LibvirtSession("qemu:///system", "vm1", "source", read_only=read_only),
            ReplaySession("source", "unix:/tmp/none.sock", Clock(0.0))]


def test_every_kind_is_a_session_with_its_traits_as_data():
    qmp, libvirt, replay = _kinds(read_only=False)
    assert all(isinstance(s, Session) for s in (qmp, libvirt, replay))
    assert (qmp.traits.address, qmp.traits.same_machine, qmp.traits.via) == ("unix:/tmp/none.sock", True, "")
    assert libvirt.traits.manages_incoming and libvirt.traits.via
    assert libvirt.traits.address == "libvirt:qemu:///system#vm1"
    assert not replay.traits.live and replay.hub.read_only
    tcp = session_for(parse_endpoint("tcp:192.0.2.7:4444"), "destination")
    assert (tcp.traits.host, tcp.traits.local, tcp.traits.same_machine) == ("192.0.2.7", False, False)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_every_kind_refuses_a_change_when_read_only_before_anything_is_sent(index):
    session = _kinds(read_only=True)[index]
    seen: list[str] = []
    session.hub.add_tap(lambda kind, msg: seen.append(kind))
    with pytest.raises(ReadOnlyRefused):
        asyncio.run(session.execute("migrate_cancel"))
    assert seen == []


@pytest.mark.parametrize("index", [0, 1])
def test_a_live_kind_not_connected_says_so_in_one_line(index):
    session = _kinds(read_only=False)[index]
    with pytest.raises(NotConnected, match="source is connecting"):
        asyncio.run(session.execute("query-migrate"))
