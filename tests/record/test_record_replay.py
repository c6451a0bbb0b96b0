"""Recording real lab migrations and replaying them: same statuses, same numbers, same history."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from qmigtui.cli.playback import final_numbers, play
from qmigtui.lab.pair import LabConfig
from qmigtui.record.format import Reader
from qmigtui.record.recorder import Recorder
from tests.helpers import wait_for


async def test_replay_walks_the_live_statuses_and_ends_with_the_live_numbers(make_rig, tmp_path):
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path)
    rig = await make_rig(LabConfig(mem_mib=128, working_set_mib=16, dirty_rate_mib_s=10,
                                   bandwidth=24 << 20), prepare=recorder.attach)
    live: list[tuple[str, str]] = []
    seen: dict[str, str] = {}

    def follow(snap) -> None:
        for side in snap.sides:
            if seen.get(side.name) != side.status:
                seen[side.name] = side.status
                live.append((side.name, side.status))
    rig.watcher.subscribe(follow)
    follow(rig.watcher.snapshot)
    await rig.controller.start_migration()
    await wait_for(lambda: all(s.status == "completed" for s in rig.watcher.snapshot.sides), 60,
                   "both sides completed")
    await asyncio.sleep(1.0)
    numbers = final_numbers(rig.watcher.snapshot)
    history = rig.watcher.snapshot.histories["source"].series("transferred")
    announced = _announced(rig.watcher.snapshot)
    await rig.close()
    recorder.close()

    header = Reader(path).header
    assert header["sides"]["source"]["qemu"] == "7.2.22" or header["sides"]["source"]["qemu"]
    assert len(header["sides"]["source"]["schema"]) == 16

    replayed, replay_numbers, warning, _ = await play(path, speed=200, quiet=True)
    assert warning is None
    replay_history, replay_announced = await _replayed(path)
    # the statuses QEMU announced, per side and in order, are the live ones ...
    assert replay_announced == announced and announced["source"][-1] == "completed"
    for side in ("source", "destination"):
        walk = [s for n, s in replayed if n == side]
        assert walk[-1] == [s for n, s in live if n == side][-1], side
        assert _in_order(announced[side], walk), (side, walk)  # ... and the replay showed each
    assert replay_numbers == numbers
    assert numbers["source"]["status"] == "completed" and numbers["source"]["transferred"] > 0
    assert _plain(replay_history) == _plain(history)


def _announced(snap) -> dict[str, list[str]]:
    """Per side, the statuses of its MIGRATION events in order."""
    out: dict[str, list[str]] = {"source": [], "destination": []}
    for e in snap.events:
        if e.name == "MIGRATION":
            out[e.side].append(e.data.get("status"))
    return out


def _in_order(wanted: list[str], walk: list[str]) -> bool:
    it = iter(walk)
    return all(any(w == s for s in it) for w in wanted)


def _plain(values: list[float]) -> list[float | None]:
    return [None if v != v else v for v in values]  # NaN (a sample without ram stats) as None


async def _replayed(path) -> tuple[list[float], dict[str, list[str]]]:
    from qmigtui.desk.opening import open_replay
    desk = await open_replay(path, 500)
    backend = desk.backend
    try:
        await backend.player.ended.wait()
        await asyncio.sleep(0.5)
        snap = backend.watcher.snapshot
        return snap.histories["source"].series("transferred"), _announced(snap)
    finally:
        await desk.close()


@pytest.mark.once  # our recorder's file: nothing of the QEMU version in it
async def test_kill_9_while_recording_leaves_a_file_that_replays_to_its_last_line(need_qemu, tmp_path):
    path = tmp_path / "killed.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "qmigtui", "lab", "--headless", "--mem", "128", "--working-set", "64",
         "--dirty-rate", "40", "--bandwidth", "8M", "--record", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill it mid-migration, while lines are being written
            if path.exists() and b'"status":"active"' in path.read_bytes():
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the recording never showed an active migration")
        await asyncio.sleep(1.0)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader = Reader(path)
    lab_dir = reader.header["sides"]["source"]["endpoint"].removeprefix("unix:").rsplit("/", 1)[0]
    await wait_for(lambda: not _alive(lab_dir), 15, "lab QEMUs gone after their parent died")
    lines = path.read_text().splitlines()
    entries = list(reader.entries())
    assert len(entries) >= len(lines) - 2  # every whole line is there; at most the last one is cut
    changes, numbers, _, _ = await play(path, speed=500, quiet=True)
    assert ("source", "active") in changes
    assert numbers["source"]["transferred"] > 0


def _alive(lab_dir: str) -> bool:
    return bool(subprocess.run(["pgrep", "-f", lab_dir], capture_output=True).stdout.strip())
