"""The status pane on a fixed synthetic Snapshot (an in-process fake, no QEMU): columns that
fit the pane, blocks that do not jump as lines come and go."""

from __future__ import annotations

from dataclasses import replace

from qmigtui.model.records import parse_record
from qmigtui.ui.status_pane import StatusPane, columns, hanging
from qmigtui.watch.snapshot import EventLine
from tests.ui.conftest import text_of
from tests.ui.fixed_state import showing, with_source

ROWS = [("transferred", "1.2 GiB"), ("remaining", "90 MiB"), ("total", "1.0 GiB")]


def test_columns_two_to_a_line_when_they_fit_and_aligned():
    lines = [line.plain for line in columns(ROWS, 80)]
    assert lines == ["transferred  1.2 GiB   remaining  90 MiB", "total        1.0 GiB"]


def test_columns_one_to_a_line_when_two_do_not_fit():
    lines = [line.plain for line in columns(ROWS, 30)]
    assert lines == ["transferred  1.2 GiB", "remaining    90 MiB", "total        1.0 GiB"]


async def test_a_side_keeps_its_rows_so_the_destination_does_not_jump():
    async with showing() as (app, pilot, snap):
        destination = app.query_one("#status-side-1")
        top = destination.region.y
        app.apply_snapshot(with_source(snap, "active", **{"error-desc": "a line that comes and goes"}))
        await pilot.pause()
        assert "a line that comes and goes" in text_of(app.query_one(StatusPane).rendered)
        lower = destination.region.y
        assert lower > top
        app.apply_snapshot(with_source(snap, "active"))
        await pilot.pause()
        assert "comes and goes" not in text_of(app.query_one(StatusPane).rendered)
        assert destination.region.y == lower


def test_a_long_line_wraps_under_its_label_never_to_column_0():
    lines = [t.plain for t in hanging("error: ", "word " * 30, "", 40)]
    assert len(lines) > 1 and lines[0].startswith("  error: word")
    assert all(line.startswith(" " * 9) and not line[9].isspace() for line in lines[1:])


async def test_the_guest_dying_on_the_destination_shows_in_the_status_pane():
    async with showing((80, 24)) as (app, pilot, snap):
        event = EventLine("destination", "GUEST_PANICKED", {"action": "pause"}, 1_700_000_200.0,
                          200.0, 99)
        app.apply_snapshot(replace(with_source(snap, "completed"), events=(*snap.events, event)))
        await pilot.pause()
        assert "guest: panicked" in text_of(app.query_one(StatusPane).rendered)


async def test_a_new_state_gives_back_rows_so_blocktime_is_not_below_the_fold():
    async with showing((80, 24)) as (app, pilot, snap):
        app.apply_snapshot(with_source(snap, "active", **{"error-desc": "x " * 300}))
        await pilot.pause()
        post = with_source(snap, "postcopy-active")
        dest = replace(snap.sides[1], info=parse_record("MigrationInfo", {
            "status": "postcopy-active", "postcopy-blocktime": 37}))
        app.apply_snapshot(replace(post, sides=(post.sides[0], dest)))
        await pilot.pause()
        pane = app.query_one(StatusPane)
        line = next(i for i, t in enumerate(text_of(pane.rendered).splitlines()) if "blocktime" in t)
        assert line < pane.size.height, "blocktime below the fold"
