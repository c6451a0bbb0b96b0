"""Endpoint forms and the one-line errors (exit status 2, no traceback) of ``qmigtui``."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import pytest

from qmigtui.qmp.endpoint import parse_endpoint
from tests.fakeqmp import FakeQmp


@pytest.mark.parametrize(("text", "kind", "where"), [
    ("unix:/run/q.sock", "unix", "/run/q.sock"), ("/run/q.sock", "unix", "/run/q.sock"),
    ("q.sock", "unix", "q.sock"), ("tcp:127.0.0.1:4444", "tcp", ("127.0.0.1", 4444)),
    ("localhost:4444", "tcp", ("localhost", 4444)), ("[::1]:4444", "tcp", ("::1", 4444)),
    ("tcp:[::1]:5", "tcp", ("::1", 5)),
])
def test_endpoint_forms(text, kind, where):
    ep = parse_endpoint(text)
    assert ep.kind == kind and ep.address == where and ep.warning() is None


def test_remote_tcp_endpoint_warns_that_qmp_is_plain_text():
    assert "no authentication" in parse_endpoint("tcp:192.0.2.7:4444").warning()
    with pytest.raises(ValueError, match="out of range"):
        parse_endpoint("tcp:h:70000")
    with pytest.raises(ValueError, match="expected tcp:HOST:PORT"):
        parse_endpoint("tcp:nonsense")


def run_cli(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qmigtui", *args], capture_output=True, text=True,
                          timeout=timeout)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_such_socket(tmp_path):
    assert_one_line_error(run_cli("status", str(tmp_path / "nope.sock")), "no such socket")
    assert_one_line_error(run_cli(str(tmp_path / "nope.sock")), "no such socket")


def test_connection_refused_on_a_dead_socket_and_a_closed_port(tmp_path):
    path = tmp_path / "dead.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    assert_one_line_error(run_cli("status", str(path)), "connection refused")
    t = socket.socket()
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    t.close()
    assert_one_line_error(run_cli("status", f"tcp:127.0.0.1:{port}"), "connection refused")


@pytest.mark.parametrize("typed", ["unix:/tmp/a\nforged: line", "\x1b]0;owned\x07/tmp/x.sock",
                                   "libvirt:qemu:///system#dom\x1b[2J"])
def test_what_was_typed_is_shown_on_one_line_without_escapes(typed):
    out = run_cli("status", typed)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "\x1b" not in out.stderr and "\x07" not in out.stderr


def test_a_dangling_symlink_for_record_is_refused_before_anything_starts(tmp_path):
    link = tmp_path / "rec.jsonl"
    link.symlink_to(tmp_path / "nowhere" / "x.jsonl")
    out = run_cli("lab", "--record", str(link), "--headless")  # refused before any QEMU starts
    assert_one_line_error(out, f"cannot record to {link}: a symbolic link to nothing")
    assert not (tmp_path / "nowhere").exists()


def test_not_a_socket(tmp_path):
    (tmp_path / "file").write_text("x")
    assert_one_line_error(run_cli("status", str(tmp_path / "file")), "not a socket")


def test_permission_denied(tmp_path):
    where = tmp_path / "private"
    where.mkdir()
    path = where / "root-only.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.listen()
    os.chmod(where, 0o700)
    try:
        if os.geteuid() == 0:
            # root reads anything: the socket's folder goes to another user, and qmigtui runs as
            # root without any capability, so the permission check applies to it as to anyone
            # (wherever the clone lives: its files stay readable)
            os.chown(where, 65534, 65534)
            proc = subprocess.run(["setpriv", "--bounding-set=-all", "--inh-caps=-all",
                                   sys.executable, "-m", "qmigtui", "status", str(path)],
                                  capture_output=True, text=True, timeout=20)
        else:
            proc = run_cli("status", str(path))
        assert_one_line_error(proc, "permission denied")
    finally:
        s.close()


def test_no_greeting_names_the_likely_cause_and_the_fix(tmp_path):
    path = tmp_path / "silent.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.listen()  # accepts (in the backlog) and never speaks, as a monitor held by libvirt
    try:
        proc = run_cli("status", "--timeout", "1", str(path))
        assert_one_line_error(proc, "no QMP greeting within 1 s")
        assert "libvirt" in proc.stderr and "-qmp unix:" in proc.stderr
    finally:
        s.close()


def test_a_held_qemu_monitor_names_the_process_holding_it(bare_qemu):
    """A real QEMU whose one monitor client is another process: that process is named."""
    path = bare_qemu
    holder = None
    try:
        holder = subprocess.Popen([sys.executable, "-c", "import socket, sys, time\n"
                                   "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
                                   "s.recv(4096); print('held', flush=True); time.sleep(60)", str(path)],
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "held"  # it has QEMU's greeting: the monitor is its
        proc = run_cli("status", "--timeout", "1", str(path))
        assert_one_line_error(proc, "no QMP greeting within 1 s")
        assert f"(pid {holder.pid}) holds this monitor" in proc.stderr, proc.stderr
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()


async def test_a_silent_tcp_peer_is_not_blamed_on_another_client():
    """Over TCP something may take the connection and say nothing (a forwarder with no QEMU
    behind it): the message says that, not that libvirt holds a monitor."""
    async def silent(reader, writer):
        await reader.read()
    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        proc = await asyncio.to_thread(run_cli, "status", "--timeout", "1", f"tcp:127.0.0.1:{port}")
    finally:
        server.close()
    assert_one_line_error(proc, "no QMP greeting came within 1 s")
    assert "forwarder" in proc.stderr and "libvirt" not in proc.stderr


def test_a_host_that_does_not_resolve_says_so():
    proc = run_cli("status", "tcp:no-such-host.invalid:4444")
    warning, error = proc.stderr.strip().splitlines()  # a remote TCP monitor is plain text: said first
    assert proc.returncode == 2 and "no authentication" in warning
    assert error == "qmigtui: tcp:no-such-host.invalid:4444: no such host (Name or service not known)"


async def _peer_says(tmp_path, greeting: bytes) -> subprocess.CompletedProcess[str]:
    fake = await FakeQmp(str(tmp_path / "peer.sock"), greeting=greeting).start()
    try:
        return await asyncio.to_thread(run_cli, "status", str(tmp_path / "peer.sock"))
    finally:
        await fake.stop()


async def test_not_a_qmp_peer(tmp_path):
    proc = await _peer_says(tmp_path, b"SSH-2.0-OpenSSH_9.2\r\n")
    assert_one_line_error(proc, "not a QMP monitor")
    proc = await _peer_says(tmp_path, b'{"hello": "world"}\r\n')
    assert_one_line_error(proc, "not a QMP monitor")


async def test_status_prints_every_member_and_json(tmp_path):
    from tests.model.test_records import REAL_QEMU_72_COMPLETED
    fake = await FakeQmp(str(tmp_path / "q.sock"),
                         lambda cmd, a: {"return": REAL_QEMU_72_COMPLETED | {"new-thing": 1}}).start()
    try:
        out = (await asyncio.to_thread(run_cli, "status", str(tmp_path / "q.sock"))).stdout
        for needle in ("status", "completed", "ram.transferred", "2.9 MiB (3021624)", "ram.mbps",
                       "ram.dirty-sync-missed-zero-copy", "downtime", "new-thing (other)"):
            assert needle in out
        js = (await asyncio.to_thread(run_cli, "status", "--json", str(tmp_path / "q.sock"))).stdout
        assert '"transferred": 3021624' in js
    finally:
        await fake.stop()


async def test_monitor_checks_a_reachable_endpoint_and_lets_it_go(tmp_path):
    from qmigtui.cli.status import check_endpoints
    fake = await FakeQmp(str(tmp_path / "q.sock")).start()
    try:
        await check_endpoints([("source", str(tmp_path / "q.sock"))], read_only=True)
        await check_endpoints([("source", str(tmp_path / "q.sock"))], read_only=False)
        assert fake.received == ["qmp_capabilities", "qmp_capabilities"]
    finally:
        await fake.stop()


def test_version_and_help():
    from qmigtui import __version__
    assert run_cli("--version").stdout.strip() == f"qmigtui {__version__}"
    for args in (["--help"], ["lab", "--help"], ["status", "--help"]):
        proc = run_cli(*args)
        assert proc.returncode == 0 and "usage: qmigtui" in proc.stdout


def test_an_ssh_that_hangs_keeps_the_timeout_and_leaves_no_folder_even_on_sigterm(tmp_path):
    import signal
    import time
    hanging = tmp_path / "ssh"
    hanging.write_text("#!/bin/sh\nexec sleep 60\n")  # logs in never, says nothing
    hanging.chmod(0o755)
    env = dict(os.environ, QMIGTUI_SSH=str(hanging), TMPDIR=str(tmp_path))
    argv = [sys.executable, "-m", "qmigtui", "status", "ssh://192.0.2.1/run/x.qmp"]
    began = time.monotonic()
    out = subprocess.run([*argv, "--timeout", "1"], capture_output=True, text=True, timeout=30, env=env)
    assert time.monotonic() - began < 5, "--timeout 1 was not kept"
    assert_one_line_error(out, "ssh did not set up the forward in 1 s")
    assert not list(tmp_path.glob("qmigtui-ssh-*"))
    proc = subprocess.Popen([*argv, "--timeout", "30"], stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(5) == 143
    assert not list(tmp_path.glob("qmigtui-ssh-*")), "the forward's folder was left"
