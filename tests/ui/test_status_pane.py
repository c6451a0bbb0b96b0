"""The status pane on a fixed synthetic Snapshot (an in-process fake, no QEMU): columns that
fit the pane, blocks that do not jump as lines come and go."""

from __future__ import annotations

from qmigtui.ui.status_pane import StatusPane, columns
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
