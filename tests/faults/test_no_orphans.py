"""``qmigtui lab`` in a real terminal (a pty) leaves nothing behind on any way out, in any TERM.

Quit key, Ctrl-C, SIGTERM, SIGHUP (the terminal goes away, as when SSH drops)
and an exception inside the app: after each, no QEMU, no relay and no lab
directory of that run survives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require
from tests.terminal import Terminal

CRASHING = """
import sys
from qmigtui.ui.app import MigrationApp
from qmigtui.cli import main as cli
def boom(self, pane_id):
    raise RuntimeError("injected failure in the app")
MigrationApp.action_focus_pane = boom
sys.exit(cli.main(["lab", "--mem", "64", "--working-set", "8", "--dirty-rate", "2"]))
"""

pytestmark = pytest.mark.once  # our processes' exit paths: the same on every QEMU


def lab_dirs_of(pid: int) -> list[Path]:
    dirs = []
    for d in Path("/tmp").glob("qmigtui-lab-*"):
        owner = d / "owner.pid"
        try:
            if owner.read_text().strip() == str(pid):
                dirs.append(d)
        except OSError:
            continue
    return dirs


def processes_in(directory: Path) -> list[str]:
    out = subprocess.run(["pgrep", "-af", str(directory)], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "pgrep" not in line]


def start(argv: list[str], term: str = "xterm-256color", **extra: str) -> tuple[Terminal, Path]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(TERM=term, COLUMNS="120", LINES="40", **extra)
    t = Terminal(argv, env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        t.drain(0.2)
        dirs = lab_dirs_of(t.pid)
        if dirs and len(processes_in(dirs[0])) >= 3 and b"Quit" in t.output:
            t.drain(1.0)  # let it connect and draw a frame or two
            return t, dirs[0]
        if t.poll() is not None:
            break
    t.close()
    raise AssertionError(f"the lab app did not come up: {t.output[-2000:]!r}")


def assert_nothing_left(t: Terminal, lab: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (processes_in(lab) or lab.exists()):
        time.sleep(0.2)
    assert not processes_in(lab), f"left running: {processes_in(lab)}"
    assert not lab.exists(), f"lab directory left behind: {lab}"


QMIGTUI = [sys.executable, "-m", "qmigtui", "lab", "--mem", "64", "--working-set", "8", "--dirty-rate", "2"]


@pytest.fixture
def qemu(need_qemu: None) -> None:
    require(sys.platform == "linux", "needs Linux ptys and /proc")


@pytest.mark.parametrize("way", ["quit key", "ctrl-c", "SIGTERM", "SIGHUP", "SIGINT", "exception"])
def test_every_way_out_of_lab_leaves_nothing_behind(qemu, tmp_path, way):
    argv = [sys.executable, "-c", CRASHING] if way == "exception" else QMIGTUI
    t, lab = start(argv, XDG_STATE_HOME=str(tmp_path))
    try:
        if way == "quit key":
            t.send(b"q")
        elif way == "ctrl-c":
            t.send(b"\x03")
        elif way == "SIGTERM":
            os.kill(t.pid, signal.SIGTERM)
        elif way == "SIGHUP":
            os.close(t.fd)  # the terminal goes away: the kernel sends SIGHUP
            os.kill(t.pid, signal.SIGHUP)
        elif way == "SIGINT":
            os.kill(t.pid, signal.SIGINT)
        elif way == "exception":
            t.send(b"2")  # the injected failure fires in the key's action
        began = time.monotonic()
        assert t.wait(30) is not None, f"still running after {way}"
        took = time.monotonic() - began
    finally:
        t.close()
    assert_nothing_left(t, lab)
    status = os.waitstatus_to_exitcode(t.status) if t.status is not None else None
    if way in ("SIGHUP", "SIGTERM", "SIGINT"):  # 128 + the signal's number
        assert status == 128 + getattr(signal, way), f"{way}: exit status {status}"
    if way == "SIGHUP":  # an operator whose SSH dropped can start again at once
        assert took < 1.5, f"a hung-up app took {took:.1f} s to end"
    if way == "exception":  # one line naming the log, a failing exit status, no traceback
        assert took < 3.0, f"a crashed app took {took:.1f} s to end"
        assert t.status is not None and os.waitstatus_to_exitcode(t.status) == 1
        crash_logs = list((tmp_path / "qmigtui").glob("crash-*.log"))
        assert len(crash_logs) == 1 and "injected failure" in crash_logs[0].read_text()
        tail = t.output[-3000:].decode(errors="replace")
        assert f"internal error (RuntimeError: injected failure in the app); details in {crash_logs[0]}" \
            in tail.replace("\r\n", "")
        assert "Traceback" not in tail


def test_a_hang_up_frees_the_monitor_of_a_watched_qemu_within_a_second(bare_qemu, tmp_path):
    t = Terminal([sys.executable, "-m", "qmigtui", bare_qemu],
                 dict(os.environ, TERM="xterm-256color", XDG_STATE_HOME=str(tmp_path)))
    try:
        deadline = time.monotonic() + 30
        while b"Quit" not in t.output and time.monotonic() < deadline:
            t.drain(0.2)
        t.drain(1.0)
        os.close(t.fd)
        os.kill(t.pid, signal.SIGHUP)
        began = time.monotonic()
        assert t.wait(10) is not None
        took = time.monotonic() - began
    finally:
        t.close()
    assert os.waitstatus_to_exitcode(t.status) == 129
    assert took < 1.5, f"a hung-up app took {took:.1f} s to end"
    out = subprocess.run([sys.executable, "-m", "qmigtui", "status", bare_qemu, "--timeout", "2"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr  # the monitor is free for the next client


@pytest.mark.parametrize(("term", "extra"), [("xterm-256color", {}), ("screen-256color", {}),
                                             ("linux", {}), ("xterm-256color", {"NO_COLOR": "1"})])
def test_the_app_draws_and_quits_in_each_terminal_kind(qemu, tmp_path, term, extra):
    t, lab = start(QMIGTUI, term, XDG_STATE_HOME=str(tmp_path), **extra)
    try:
        t.drain(1.0)
        assert b"Status" in t.output and b"source" in t.output.lower()
        if extra.get("NO_COLOR"):
            assert b"38;2;" not in t.output[-20000:]  # no true-colour foregrounds
        t.send(b"q")
        assert t.wait(30) is not None
    finally:
        t.close()
    assert_nothing_left(t, lab)


@pytest.mark.parametrize("way", ["quit key", "SIGTERM"])
def test_a_staged_scenario_leaves_nothing_behind(qemu, tmp_path, way):
    t, lab = start([*QMIGTUI, "--scenario", "stuck-postcopy"], XDG_STATE_HOME=str(tmp_path))
    try:
        t.drain(4.0)  # let the staging get under way: a migration, postcopy, a cut link
        if way == "quit key":
            t.send(b"q")  # a migration is running: q asks first
            t.drain(1.5)
            assert t.poll() is None and b"Quit the lab?" in t.output
            t.send(b"y")
        else:
            os.kill(t.pid, signal.SIGTERM)
        assert t.wait(30) is not None, f"still running after {way}"
    finally:
        t.close()
    assert_nothing_left(t, lab)
