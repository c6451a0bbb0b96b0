"""Text from a hostile peer never reaches the terminal raw, nor as markup: the real app in a
real pty against a fake peer (named so) that puts escape sequences, OSC title and clipboard
writes, a bidi override, markup and a megabyte into every string of every struct and event;
the bytes the app writes are checked, and so are the CLI's and the exports' outputs."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile import EVIL, hostile_events, hostile_struct
from tests.terminal import Terminal

ROOT = Path(__file__).resolve().parents[2]
RAW = [b"\x1b]0;pwned", b"\x1b]52;", b"pwned-title", "\u202e".encode(), b"\x1b[2J", b"A" * 5000,
       "\x9b".encode()]


def assert_clean(data: bytes, where: str) -> None:
    for needle in RAW:
        assert needle not in data, f"{where}: {needle!r} reached it raw"


@pytest.fixture(params=[3000, 1_000_000], ids=["kilobytes", "a-megabyte"])
def hostile_peer(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """The hostile peer on two sockets, its strings a few kilobytes (whole messages reach the
    app) or a megabyte each (the QMP layer drops such a message and reconnects)."""
    paths = [str(tmp_path / "src.sock"), str(tmp_path / "dst.sock")]
    env = dict(os.environ, HOSTILE_SIZE=str(request.param))
    proc = subprocess.Popen([sys.executable, "-m", "tests.hostile", *paths], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        yield paths
    finally:
        proc.kill()
        proc.wait(10)


def test_the_terminal_gets_no_escape_sequence_bidi_or_markup_from_the_peer(hostile_peer, tmp_path):
    src, dst = hostile_peer
    env = dict(os.environ, TERM="xterm-256color", XDG_STATE_HOME=str(tmp_path))
    t = Terminal([sys.executable, "-m", "qmigtui", src, "--dest", dst, "--interval", "0.3"], env)
    try:
        deadline = time.monotonic() + 30
        while b"SOURCE" not in t.output and time.monotonic() < deadline:
            t.drain(0.2)
        assert b"SOURCE" in t.output, t.output[-2000:]
        for key in (b"2", b"3", b"4", b"5", b"6", b"1", b"e", b"\x1b", b"?", b"7"):
            t.send(key)
            t.drain(0.5)
        t.drain(2.0)  # several rounds of every event
        assert t.poll() is None, "the app ended"
        if b"lost the connection" not in t.output:  # the messages came whole: their text is shown
            assert b"[/x]" in t.output and b"[@click=app.quit]" in t.output  # as written
        assert_clean(t.output, "the terminal")
        t.send(b"\x03")  # ctrl+c: the console has the keys now
        assert t.wait(20) is not None
    finally:
        t.close()


@pytest.mark.parametrize("flag", [[], ["--parameters"], ["--capabilities"], ["--json"]])
def test_qmigtui_status_prints_the_peers_text_cleaned(hostile_peer, flag):
    out = subprocess.run([sys.executable, "-m", "qmigtui", "status", hostile_peer[0], *flag],
                         capture_output=True, timeout=60, cwd=ROOT)
    assert out.returncode in (0, 2) and b"Traceback" not in out.stderr, out.stderr[-2000:]
    assert_clean(out.stdout + out.stderr, f"qmigtui status {flag}")
    if out.returncode == 0:
        assert b"evil" in out.stdout or flag == ["--capabilities"]
    else:  # a megabyte answer: one line says the connection went
        assert len(out.stderr.strip().splitlines()) == 1


def hostile_recording(path: Path) -> Path:
    """A recording whose every string is hostile, with a formula for a status and a broken
    event timestamp."""
    header = {"qmigtui-recording": 1, "qmigtui": "0.1.0", "started": 1.0,
              "sides": {"source": {"endpoint": EVIL, "qemu": EVIL, "schema": EVIL}}}
    lines = [header]
    info = hostile_struct("MigrationInfo") | {"status": '=HYPERLINK("http://x","click")',
                                              "=cmd|' /C calc'!A0": 1}  # a member's name: a column
    info["ram"] = dict(info["ram"], **{"@SUM(1+1)*cmd|' /C calc'!A0": 2})
    for n in range(3):
        lines.append({"t": n, "wall": n, "side": "source", "kind": "command",
                      "msg": {"execute": "query-migrate", "id": f"q{n}"}})
        lines.append({"t": n + 0.1, "wall": n, "side": "source", "kind": "response",
                      "msg": {"return": info, "id": f"q{n}"}})
    for event in hostile_events():
        lines.append({"t": 4, "wall": 4, "side": "source", "kind": "event",
                      "msg": event | {"timestamp": {"seconds": "soon", "microseconds": None}}})
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(line) + "\n" for line in lines)
    return path


@pytest.mark.parametrize("kind", ["--csv", "--json"])
def test_exports_hold_no_raw_escape_bidi_or_formula(tmp_path, kind):
    rec = hostile_recording(tmp_path / "evil.jsonl.gz")
    out = subprocess.run([sys.executable, "-m", "qmigtui", "export", str(rec), kind, "-o",
                          str(tmp_path / "out")], capture_output=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert b"Traceback" not in out.stderr
    files = sorted(tmp_path.glob("out*"))
    assert files
    for path in files:
        data = path.read_bytes()
        assert_clean(data, path.name)
        if kind == "--csv":
            rows = list(csv.reader(io.StringIO(data.decode())))
            cells = [c for row in rows for c in row]
            assert not any(c.startswith(("=", "+", "@", "-")) for c in cells), path.name
            if not path.name.endswith("events.csv"):  # the hostile members made columns
                assert "'=cmd|' /C calc'!A0" in rows[0], rows[0]


async def test_a_hostile_recording_replays_in_the_app_as_plain_text(tmp_path):
    from qmigtui.desk.opening import open_replay
    from qmigtui.ui.app import MigrationApp
    from qmigtui.ui.status_pane import StatusPane
    from tests.helpers import wait_for
    from tests.ui.conftest import text_of
    rec = hostile_recording(tmp_path / "evil.jsonl.gz")
    app = MigrationApp(lambda: open_replay(rec, 50.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.snapshot is not None and app.snapshot.source.info is not None,
                       20, "the replay drawn")
        for key in ("2", "3", "4", "5", "6", "1"):
            await pilot.press(key)
        await pilot.pause(0.5)
        shown = text_of(app.query_one(StatusPane).rendered)
        assert app.is_running and "evil[/x]" in shown and "\x1b" not in shown
        await app.action_quit()
