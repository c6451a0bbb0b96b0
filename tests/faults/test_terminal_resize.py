"""Resizing from 80x24 up and back (an in-process fixed snapshot, no QEMU): no crash, no lost state."""

from __future__ import annotations

from qmigtui.ui.events_pane import EventsPane
from qmigtui.ui.status_pane import StatusPane
from tests.ui.conftest import text_of
from tests.ui.fixed_state import showing


async def test_resizing_down_to_80x24_and_up_keeps_pane_filter_and_numbers():
    async with showing() as (app, pilot, snap):
        app.query_one(EventsPane).set_filter("PASS")
        await pilot.press("4")
        before = text_of(app.query_one(StatusPane).rendered)
        for size in ((80, 24), (200, 60), (80, 24), (79, 20), (120, 40), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            wide = size[0] >= 120 and size[1] >= 36
            assert app.has_class("-wide") is wide and app.has_class("-narrow") is not wide
            assert app.current_pane == "parameters"
            assert app.query_one("#parameters").has_class("-current")
        assert app.query_one(EventsPane).filter == "PASS"
        assert app.snapshot is snap
        assert text_of(app.query_one(StatusPane).rendered) == before
        await pilot.press("1", "5", "q")
