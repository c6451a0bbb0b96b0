"""The bundled recordings: they replay to what they show, export as tables, and drive the app."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qmigtui.cli.playback import play
from qmigtui.desk.opening import open_replay
from qmigtui.record.export import tables
from qmigtui.record.format import Reader
from qmigtui.ui.app import MigrationApp
from qmigtui.ui.config_panes import ParametersPane
from qmigtui.ui.status_pane import StatusPane
from tests.helpers import wait_for
from tests.ui.conftest import text_of

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WALKS = {
    "converge": ["none", "setup", "active", "completed"],
    "postcopy-rescue": ["none", "setup", "active", "postcopy-active", "completed"],
    "auto-converge-max": ["none", "setup", "active"],
    "postcopy-recover": ["none", "setup", "active", "postcopy-active", "postcopy-paused",
                         "postcopy-recover", "postcopy-active", "completed"],
}


def example(name: str) -> Path:
    return EXAMPLES / f"{name}.jsonl.gz"


@pytest.mark.parametrize("name", sorted(WALKS))
async def test_each_example_replays_the_walk_it_is_named_for(name):
    changes, final, warning, _ = await play(example(name), speed=1000, quiet=True)
    walk = [s for side, s in changes if side == "source"]
    assert [s for s in walk if s in WALKS[name]][:len(WALKS[name])] == WALKS[name], walk
    assert warning is None
    if name != "auto-converge-max":
        assert final["source"]["status"] == "completed"


async def test_auto_converge_example_throttles_to_its_maximum():
    samples, _ = tables(Reader(example("auto-converge-max")))
    throttle = [row.get("cpu-throttle-percentage", 0) for row in samples if row["side"] == "source"]
    assert max(throttle) == 80 and throttle[0] == 0


def test_export_csv_has_a_row_per_sample_and_a_column_per_numeric_field(tmp_path):
    out = subprocess.run([sys.executable, "-m", "qmigtui", "export", str(example("converge")), "--csv",
                          "-o", str(tmp_path / "converge")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    samples_csv, events_csv = (Path(p) for p in out.stdout.split())
    rows = list(csv.DictReader(samples_csv.open()))
    answers = sum(1 for e in _answers(example("converge")))
    assert len(rows) == answers
    columns = set(rows[0])
    assert {"side", "t", "status", "ram.transferred", "ram.remaining", "ram.mbps", "total-time"} <= columns
    done = [r for r in rows if r["side"] == "source" and r["status"] == "completed"][-1]
    assert int(done["ram.remaining"]) == 0 and int(done["ram.transferred"]) > 100 << 20
    events = list(csv.DictReader(events_csv.open()))
    assert any(e["event"] == "MIGRATION" and '"completed"' in e["data"] for e in events)
    json_out = subprocess.run([sys.executable, "-m", "qmigtui", "export", str(example("converge")),
                               "--json", "-o", str(tmp_path / "c")], capture_output=True, text=True)
    assert json_out.returncode == 0 and Path(json_out.stdout.strip()).stat().st_size > 1000


def _answers(path: Path):
    pending = {}
    for e in Reader(path).entries():
        if e.kind == "command":
            pending[(e.side, e.msg.get("id"))] = e.msg.get("execute")
        elif e.kind == "response" and pending.pop((e.side, e.msg.get("id")), None) == "query-migrate":
            yield e


async def test_replay_keys_pause_step_speed_and_jump_in_the_app():
    app = MigrationApp(lambda: open_replay(example("postcopy-recover"), 1.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.desk is not None and app.snapshot is not None, 20, "backend")
        top = app.query_one("#topline")
        await wait_for(lambda: "REPLAY" in str(top.render()), 5, "replay on the top line")
        await pilot.press("space")
        assert app.desk.backend.player.paused and "PAUSED" in str(top.render())
        at = app.desk.backend.player.position
        await pilot.pause(0.5)
        assert app.desk.backend.player.position == at
        await pilot.press("right_square_bracket")  # the next MIGRATION event
        await wait_for(lambda: any(s.status != "none" for s in app.snapshot.sides), 5, "a new state")
        await pilot.press("plus")
        assert app.desk.backend.player.speed == 2.0
        await pilot.press("m", "x")  # a recording cannot be acted on: nothing happens, no dialog
        assert app.screen.__class__.__name__ == "Screen"
        await pilot.press("g")
        await wait_for(lambda: app.screen.__class__.__name__ == "AskText", 5, "jump dialog")
        await pilot.press(*"9999s", "enter")
        await wait_for(lambda: app.snapshot.source.status == "completed", 10, "the end")
        assert "completed" in text_of(app.query_one(StatusPane).rendered)
        await wait_for(lambda: "END" in str(top.render()), 5, "the end on the top line")
        assert re.search(r"REPLAY (3\d\.\d s) of \1", str(top.render()))  # stopped at its length
        await app.action_quit()


async def test_replay_jumps_to_mm_ss_and_space_in_pane_3_pauses_instead_of_toggling():
    app = MigrationApp(lambda: open_replay(example("postcopy-recover"), 1.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.desk is not None and app.snapshot is not None, 20, "backend")
        player = app.desk.backend.player
        await pilot.press("3", "space")
        await pilot.pause(0.2)
        assert player.paused  # the replay's key, not a capability toggle
        assert not any("read-only" in text for _, text in app.notified)
        await pilot.press("g")
        await wait_for(lambda: app.screen.__class__.__name__ == "AskText", 5, "jump dialog")
        await pilot.press(*"0:03", "enter")
        await wait_for(lambda: player.position >= 3.0, 5, "at 0:03 (three seconds, not 3 ms)")
        assert player.position < 4.0
        await app.action_quit()


async def test_replayed_parameter_values_keep_their_units_and_full_width():
    """The table was built before the recording's parameters arrived: its columns grow."""
    app = MigrationApp(lambda: open_replay(example("postcopy-recover"), 1.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.snapshot is not None and app.snapshot.source.parameters is not None,
                       20, "the recorded parameters")
        await pilot.press("4")
        await pilot.pause(0.5)
        table = app.query_one(ParametersPane)
        row = table.get_row("max-bandwidth")
        assert row[2].endswith("MiB/s") and row[3].endswith("MiB/s")
        for column in list(table.columns.values())[2:4]:
            widest = max(len(str(table.get_cell_at((r, list(table.columns).index(column.key)))))
                         for r in range(table.row_count))
            assert column.content_width >= widest
        await app.action_quit()
