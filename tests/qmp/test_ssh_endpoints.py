"""ssh:// endpoints: a real QEMU on "another host", reached through a real sshd on 127.0.0.1
and the system's OpenSSH client, which forwards the QMP unix socket; each failure is one line,
and the forwarder never outlives the command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from qmigtui.qmp.endpoint import parse_endpoint
from tests.conftest import require
from tests.qmp.test_endpoints import assert_one_line_error
from tests.sshd import Sshd, sshd_binary, start_sshd


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    require(sshd_binary() is not None, "no sshd here (make test unpacks one: scripts/sshd_root.py)")
    server = start_sshd(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def run(ssh: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qmigtui", *args], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, QMIGTUI_SSH=ssh))


def forwarders() -> list[str]:
    out = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "qmigtui-ssh-" in line and "-N" in line]


def test_ssh_endpoint_forms():
    ep = parse_endpoint("ssh://ops@db-7.example:2222/run/qemu/web-1.qmp")
    assert (ep.kind, ep.user, ep.host, ep.port, ep.path) == ("ssh", "ops", "db-7.example", 2222,
                                                             "/run/qemu/web-1.qmp")
    assert str(ep) == "ssh://ops@db-7.example:2222/run/qemu/web-1.qmp" and ep.warning() is None
    with pytest.raises(ValueError, match="expected ssh://"):
        parse_endpoint("ssh://host-without-a-path")


def test_status_over_ssh_through_a_real_sshd(sshd, bare_qemu):
    done = run(sshd.client_config(), "status", sshd.url(bare_qemu))
    assert done.returncode == 0, done.stderr
    assert "status" in done.stdout and "none" in done.stdout  # QEMU's own answer, forwarded
    js = run(sshd.client_config(), "status", "--json", sshd.url(bare_qemu))
    assert js.returncode == 0 and json.loads(js.stdout) == {}  # a QEMU that never migrated
    assert forwarders() == []  # the forwarder went with the command


def test_ssh_failures_are_one_line_each(sshd, bare_qemu):
    unknown = run(sshd.client_config("no-known", known=False), "status", sshd.url(bare_qemu))
    assert_one_line_error(unknown, "the host key is not known or has changed")
    refused = run(sshd.client_config("stranger", key="stranger"), "status", sshd.url(bare_qemu))
    assert_one_line_error(refused, "authentication refused")
    missing = run(sshd.client_config(), "status", sshd.url(bare_qemu + ".gone"))
    assert_one_line_error(missing, "the remote socket cannot be opened (it does not exist")
    assert forwarders() == []


async def test_the_app_watches_a_qemu_over_ssh_and_its_forwarder_goes_with_it(
        sshd, bare_qemu, monkeypatch, tmp_path):
    from qmigtui.desk.opening import open_endpoints
    from qmigtui.ui.app import MigrationApp
    from tests.helpers import wait_for
    monkeypatch.setenv("QMIGTUI_SSH", sshd.client_config())
    url = sshd.url(bare_qemu)
    app = MigrationApp(lambda: open_endpoints([("source", url)], 0.5, False, None,
                                              str(tmp_path / "audit.log")))
    async with app.run_test(size=(120, 40)):
        await wait_for(lambda: app.snapshot is not None and app.snapshot.source.connected
                       and app.snapshot.source.qemu_version, 30, "connected over ssh")
        assert forwarders()  # ssh -N runs while the app watches
        assert url in str(app.query_one("#status").render()) or app.snapshot.source.endpoint == url
        await app.action_quit()
    await wait_for(lambda: forwarders() == [], 10, "the forwarder gone")
