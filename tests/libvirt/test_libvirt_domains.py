"""Domains under real private libvirt daemons (two "hosts" on this machine, tests/libvirtd.py):
attach with no second monitor, watch libvirt-driven migrations, act through libvirt's API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from qmigtui.control.ops import Controller
from qmigtui.qmp.errors import CommandRejected, ReadOnlyRefused
from qmigtui.qmp.libvirt_conn import list_domains
from qmigtui.qmp.libvirt_session import LibvirtSession
from qmigtui.qmp.session import ConnState
from qmigtui.watch.watcher import Watcher
from tests.helpers import wait_for

MIB = 1 << 20


@contextlib.asynccontextmanager
async def _watching(src: Any, dst: Any, domain: str) -> AsyncIterator[tuple[Watcher, Controller]]:
    """Both sides of the domain watched through libvirt (closed when the block ends)."""
    sessions = [LibvirtSession(src.uri, domain, "source", peer_uri=dst.uri),
                LibvirtSession(dst.uri, domain, "destination")]
    for s in sessions:
        await s.connect()
    watcher = Watcher(sessions, 0.25)
    await watcher.start()
    try:
        yield watcher, Controller(watcher)
    finally:
        await watcher.close()


async def _started(watcher: Watcher, controller: Controller, parameters: dict[str, int]) -> None:
    """Attached; the parameters set through libvirt and read back; a migration active."""
    await wait_for(lambda: _status(watcher, "source") == "none", 10, "attached")
    for name, value in parameters.items():
        assert await controller.set_parameter("source", name, str(value)) == value
    await wait_for(lambda: watcher.snapshot.side("source").parameters is not None
                   and all(watcher.snapshot.side("source").parameters.values.get(n) == v
                           for n, v in parameters.items()), 10, "parameters read back")
    await controller.start_migration(f"tcp:127.0.0.1:{_port()}")
    await wait_for(lambda: _status(watcher, "source") == "active", 20, "active")


def _status(watcher: Watcher, side: str) -> str | None:
    return watcher.snapshot.side(side).status if watcher.snapshot is not None else None


def _monitors(pid: int) -> list[str]:
    args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return [args[i + 1].decode() for i, a in enumerate(args[:-1]) if a in (b"-mon", b"-qmp")]


async def test_attach_to_a_running_domain_and_watch_a_libvirt_migration_complete(libvirt_hosts):
    src, dst = libvirt_hosts
    domain = src.create("web1", working_set_mib=48, dirty_rate_mib_s=4)
    pid = src.qemu_pid(domain)
    assert pid and len(_monitors(pid)) == 1, "libvirt's own monitor, and no second one"
    async with _watching(src, dst, domain) as (watcher, _):
        snap = await wait_for(lambda: _status(watcher, "source") == "none" and watcher.snapshot, 10,
                              "source attached")
        assert snap.side("destination").connection == "reconnecting", "not there before migrating"
        src.virsh("migrate-setspeed", domain, "32")  # MiB/s: long enough to watch it move
        migration = await asyncio.create_subprocess_exec(  # as an operator would start it
            "virsh", "-q", "-c", src.uri, "migrate", "--live", "--p2p", domain, dst.uri,
            "--migrateuri", f"tcp://127.0.0.1:{_port()}",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        await wait_for(lambda: _status(watcher, "source") == "active", 20, "source active")
        first = watcher.snapshot.side("source").info.number("ram.transferred") or 0
        await wait_for(lambda: (watcher.snapshot.side("source").info.number("ram.transferred") or 0)
                       > first + 8 * MIB, 20, "progress")
        assert watcher.snapshot.side("source").info.number("ram.total") >= 128 * MIB
        events = {e.name for e in watcher.snapshot.events}
        assert {"MIGRATION", "MIGRATION_PASS"} <= events, "QEMU's own events, through libvirt"
        await wait_for(lambda: _status(watcher, "source") == "completed", 60, "source completed")
        said, _ = await asyncio.wait_for(migration.communicate(), 30)
        assert migration.returncode == 0, said
        await wait_for(lambda: watcher.snapshot.side("destination").connection == "connected"
                       and _status(watcher, "destination") == "completed", 20, "destination completed")
        info = watcher.snapshot.side("source").info
        assert info.number("ram.transferred") >= 48 * MIB and info.number("total-time")
        assert "custom-monitor" not in src.domain_log(domain), "the domain stays untainted"


async def test_a_migration_started_cancelled_and_failed_through_libvirt(libvirt_hosts):
    src, dst = libvirt_hosts
    domain = src.create("db1", working_set_mib=64, dirty_rate_mib_s=8)
    async with _watching(src, dst, domain) as (watcher, controller):
        await _started(watcher, controller, {"max-bandwidth": 8 * MIB})
        assert watcher.snapshot.side("source").parameters.values.get("max-bandwidth") == 8 * MIB
        await controller.cancel()
        await wait_for(lambda: _status(watcher, "source") == "cancelled", 20, "cancelled")
        # again, and this time the destination's QEMU dies under it
        await wait_for(lambda: domain not in dst.virsh("list", "--name"), 20,
                       "the destination's half cleared by libvirt", step=0.5)
        # libvirt ends its job a moment after QEMU says cancelled (libvirt 11.3 took longer than
        # 9.0 here): until then a new migration is refused, in libvirt's words
        await wait_for(lambda: "None" in src.virsh("domjobinfo", domain).split("\n")[0], 20,
                       "the source's migration job ended in libvirt", step=0.5)
        await controller.start_migration(f"tcp:127.0.0.1:{_port()}")
        await wait_for(lambda: _status(watcher, "source") == "active"
                       and dst.qemu_pid(domain), 20, "active again")
        os.kill(dst.qemu_pid(domain), 9)
        await wait_for(lambda: _status(watcher, "source") == "failed", 30, "failed")
        await wait_for(lambda: watcher.snapshot.side("source").info.text("error-desc"), 30,
                       "libvirt's reason shown")
        await wait_for(lambda: _status(watcher, "source") in ("failed", "none") and
                       watcher.snapshot.side("source").connection == "connected", 10, "still attached")


async def test_a_paused_postcopy_recovered_through_libvirt(libvirt_hosts):
    src, dst = libvirt_hosts
    domain = src.create("app1", working_set_mib=64, dirty_rate_mib_s=8)
    async with _watching(src, dst, domain) as (watcher, controller):
        await _started(watcher, controller, {"max-bandwidth": 16 * MIB,
                                             "max-postcopy-bandwidth": 4 * MIB})
        await controller.start_postcopy()
        await wait_for(lambda: _status(watcher, "source") == "postcopy-active", 20, "postcopy")
        await controller.pause()
        await wait_for(lambda: _status(watcher, "source") == "postcopy-paused", 20, "source paused")
        await wait_for(lambda: _status(watcher, "destination") == "postcopy-paused", 20, "dest paused")
        assert watcher.snapshot.side("source").pause_asked
        await controller.set_parameter("source", "max-postcopy-bandwidth", str(64 * MIB))
        await controller.recover(timeout=20)
        resumed = ("postcopy-recover", "postcopy-active", "completed")
        await wait_for(lambda: _status(watcher, "source") in resumed or dst.proc.poll() is not None,
                       20, "resumed")
        if dst.proc.poll() is not None:
            # libvirt 11.3 (Debian 13): the destination's daemon dies of SIGSEGV on any postcopy
            # resume, `virsh migrate --postcopy --postcopy-resume` as well (in its qemu driver,
            # near qemuMonitorJSONAttachCharDev): libvirt's fault, not the request's. What
            # qmigtui owes then: the guest kept paused on the source, the dead side shown.
            assert dst.proc.returncode == -signal.SIGSEGV
            await wait_for(lambda: watcher.snapshot.side("destination").connection != "connected",
                           10, "the destination's libvirt shown gone")
            assert _status(watcher, "source") == "postcopy-paused"
            return
        await wait_for(lambda: _status(watcher, "destination") == "completed", 60, "completed")
        assert "custom-monitor" not in src.domain_log(domain)


@pytest.mark.once  # libvirt's side only
async def test_read_only_connection_degrades_and_changes_nothing(libvirt_hosts):
    src, dst = libvirt_hosts
    domain = src.create("ro1", working_set_mib=8, dirty_rate_mib_s=1)
    session = LibvirtSession(src.uri, domain, "source", read_only=True, peer_uri=dst.uri)
    await session.connect()
    try:
        assert session.hub.state is ConnState.CONNECTED
        assert any("QEMU's own events" in m for m in session.hub.missing)
        assert (await session.execute("query-migrate"))["status"] == "none"
        with pytest.raises(ReadOnlyRefused):
            await session.execute("migrate", {"uri": "tcp:127.0.0.1:1"})
        watcher = Watcher([session], 0.25)
        await watcher.start()
        snap = await wait_for(lambda: watcher.snapshot is not None and watcher.snapshot.source.limits
                              and watcher.snapshot, 10, "what is missing, said")
        assert snap.source.via == "libvirt"
        assert snap.source.limits[0].startswith("QEMU's own events (read-only connection)")
        await watcher.stop()
    finally:
        await session.close()


@pytest.mark.once  # libvirt's side only
async def test_raw_qmp_is_an_opt_in_that_taints_and_domains_list_jobs_first(libvirt_hosts):
    src, dst = libvirt_hosts
    quiet = src.create("aaa-idle", working_set_mib=8, dirty_rate_mib_s=1)
    domain = src.create("zzz-moving", working_set_mib=48, dirty_rate_mib_s=4)
    plain = LibvirtSession(src.uri, domain, "source", peer_uri=dst.uri)
    await plain.connect()
    raw = LibvirtSession(src.uri, quiet, "source", monitor=True)
    await raw.connect()
    try:
        with pytest.raises(CommandRejected, match="--monitor"):
            await plain.execute("query-status")
        assert "custom-monitor" not in src.domain_log(quiet)
        assert (await raw.execute("query-status"))["status"] == "running"
        caps = await raw.execute("query-migrate-capabilities")
        assert any(c["capability"] == "postcopy-ram" for c in caps), "QEMU's full answer"
        await wait_for(lambda: "custom-monitor" in src.domain_log(quiet), 5, "libvirt's taint")
        await plain.execute("migrate-set-parameters", {"max-bandwidth": 4 * MIB})
        await plain.execute("migrate", {"uri": f"tcp:127.0.0.1:{_port()}"})
        rows = await list_domains(src.uri)
        assert [r[0] for r in rows] == [domain, quiet], "the one with a running job first"
        assert rows[0][2] in ("setup", "active") and rows[1][2] == ""
        await plain.execute("migrate_cancel")
    finally:
        await plain.close()
        await raw.close()


@pytest.mark.once  # libvirt's side only
async def test_no_such_domain_or_daemon_is_one_line(libvirt_hosts, tmp_path):
    src, _ = libvirt_hosts
    from qmigtui.qmp.errors import EndpointError
    with pytest.raises(EndpointError, match="no running domain named nope"):
        await LibvirtSession(src.uri, "nope", "source").connect()
    with pytest.raises(EndpointError) as e:
        await LibvirtSession(f"qemu+unix:///system?socket={tmp_path}/none", "x", "source").connect()
    assert "\n" not in str(e.value) and str(tmp_path) in str(e.value)


def _port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.once  # libvirt's side only
def test_a_fleet_of_every_domain_of_a_libvirt_host(libvirt_hosts):
    from qmigtui.cli.fleet import _libvirt_domains
    from qmigtui.desk.fleet import expand
    src, _ = libvirt_hosts
    for name in ("vm-b", "vm-a"):
        src.create(name, working_set_mib=8, dirty_rate_mib_s=1)
    texts = _libvirt_domains([f"libvirt:{src.uri}"])
    assert texts == [f"libvirt:{src.uri}#vm-a", f"libvirt:{src.uri}#vm-b"]
    assert [s.name for s in expand(texts, {})] == ["vm-a", "vm-b"]


@pytest.mark.once  # libvirt's side only
async def test_a_remote_libvirt_over_qemu_ssh_through_a_real_sshd(libvirt_hosts, tmp_path):
    from tests.conftest import require
    from tests.sshd import sshd_binary, start_sshd
    require(sshd_binary() is not None, "no sshd here (make test unpacks one: scripts/sshd_root.py)")
    require(shutil.which("nc") is not None, "no nc here: qemu+ssh:// with ?socket= needs it on the "
                                            "remote side (make libvirt installs netcat-openbsd)")
    src, _ = libvirt_hosts
    domain = src.create("far1", working_set_mib=8, dirty_rate_mib_s=1)
    server = start_sshd(tmp_path)
    try:
        ssh = tmp_path / "ssh-command"  # libvirt runs this as its ssh: the operator's config
        ssh.write_text(f"#!/bin/sh\nexec {server.client_config()} \"$@\"\n")
        ssh.chmod(0o755)
        uri = (f"qemu+ssh://{server.user}@127.0.0.1:{server.port}/system"
               f"?socket={src.dir / 'run' / 'libvirt-sock'}&command={ssh}&no_tty=1")
        rows = await list_domains(uri)
        assert [r[0] for r in rows] == [domain]
        session = LibvirtSession(uri, domain, "source")
        await session.connect()
        try:
            assert (await session.execute("query-migrate"))["status"] == "none"
            assert session.hub.qemu_version.count(".") == 2
        finally:
            await session.close()
    finally:
        server.stop()


@pytest.mark.once  # libvirt's side only
def test_connect_without_a_domain_lists_them_and_asks_for_one(libvirt_hosts, tmp_path):
    import subprocess
    import sys
    src, _ = libvirt_hosts
    src.create("solo", working_set_mib=8, dirty_rate_mib_s=1)
    (tmp_path / "empty.toml").write_text("")
    done = subprocess.run([sys.executable, "-m", "qmigtui", "--connect", src.uri, "--config",
                           str(tmp_path / "empty.toml")], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert done.stdout.splitlines()[1].split()[:2] == ["solo", "running"]
    assert done.stderr == f"qmigtui: name one: qmigtui --connect {src.uri} DOMAIN\n"


QUIT_MID_MIGRATION = """
import asyncio, sys
from qmigtui.qmp.libvirt_session import LibvirtSession

async def main():
    s = LibvirtSession(sys.argv[1], sys.argv[2], "source", peer_uri=sys.argv[3])
    await s.connect()
    await s.execute("migrate-set-parameters", {"max-bandwidth": 4 << 20})
    await s.execute("migrate", {"uri": sys.argv[4]})
    print((await s.execute("query-migrate"))["status"], flush=True)
    await s.close()
asyncio.run(main())
"""


@pytest.mark.once  # our own exit path
def test_leaving_while_libvirt_migrates_does_not_wait_for_the_migration(libvirt_hosts):
    import subprocess
    import sys
    import time
    src, dst = libvirt_hosts
    domain = src.create("long1", working_set_mib=64, dirty_rate_mib_s=8)
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-c", QUIT_MID_MIGRATION, src.uri, domain, dst.uri,
                           f"tcp:127.0.0.1:{_port()}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["active"] or done.stdout.split() == ["setup"]
    assert time.monotonic() - t0 < 15, "128 MiB at 4 MiB/s would take 30 s"


async def test_the_autopilot_steers_a_domain_through_libvirts_calls(libvirt_hosts, tmp_path):
    from qmigtui.control.audit import AuditLog, read
    from qmigtui.control.autopilot import Autopilot, Step
    from qmigtui.policy.catalog import make
    from qmigtui.policy.objectives import Objectives

    src, dst = libvirt_hosts
    domain = src.create("db1", working_set_mib=48, dirty_rate_mib_s=40)  # never converges at 8
    async with _watching(src, dst, domain) as (watcher, controller):
        log = AuditLog(tmp_path / "audit.jsonl")
        controller.audit_hooks.append(log)
        steps: list[Step] = []
        await _started(watcher, controller, {"max-bandwidth": 8 * MIB})  # the operator's
        pilot = Autopilot(controller, make("qmigtui", Objectives(max_downtime_ms=1000,
                                                                 link_bytes_per_s=1 << 30)),
                          on_step=steps.append)
        pilot.engage()
        try:
            await pilot.prepare()
            await wait_for(lambda: _status(watcher, "destination") == "completed"
                           or _status(watcher, "source") in ("failed", "cancelled"), 180, "the end")
        finally:
            await pilot.disengage()
            print(*steps, sep="\n")  # shown when the test fails
    acted = [s for s in steps if s.decision.changes_vm and s.outcome == "ok"]
    assert any(s.decision.target == "max-bandwidth" for s in acted), steps
    sent = [e for e in read(tmp_path / "audit.jsonl") if "command" in e and e["by"] == "autopilot"]
    assert sent and all(e.get("via", "libvirt") == "libvirt" for e in sent), sent
    assert "custom-monitor" not in src.domain_log(domain)  # libvirt's calls, no raw QMP
