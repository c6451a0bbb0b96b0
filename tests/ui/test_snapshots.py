"""SVG snapshots of the main screen at 80x24 and 120x40, in a fixed synthetic state."""

from __future__ import annotations

import os
import time

import pytest

from qmigtui.ui.app import MigrationApp
from tests.ui.fixed_state import fixed_snapshot


@pytest.fixture(autouse=True)
def utc() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()


async def _apply(pilot) -> None:
    pilot.app.apply_snapshot(fixed_snapshot())
    await pilot.pause()


def test_main_screen_80x24(snap_compare):
    assert snap_compare(MigrationApp(None), terminal_size=(80, 24), run_before=_apply)


def test_main_screen_120x40(snap_compare):
    assert snap_compare(MigrationApp(None), terminal_size=(120, 40), run_before=_apply)


def test_every_pane_reachable_at_80x24_with_the_status_line(snap_compare):
    async def go_to_parameters(pilot) -> None:
        await _apply(pilot)
        await pilot.press("4")
        await pilot.pause()
    assert snap_compare(MigrationApp(None), terminal_size=(80, 24), run_before=go_to_parameters)


async def test_resizing_keeps_state_and_switches_layout():
    app = MigrationApp(None)
    async with app.run_test(size=(120, 40)) as pilot:
        app.apply_snapshot(fixed_snapshot())
        await pilot.pause()
        assert app.has_class("-wide")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.has_class("-narrow") and app.snapshot.source.status == "active"
        for key, pane in zip("12345", ("status", "graphs", "capabilities", "parameters", "events"),
                             strict=True):
            await pilot.press(key)
            assert app.query_one(f"#{pane}").display and app.query_one("#topline").display
