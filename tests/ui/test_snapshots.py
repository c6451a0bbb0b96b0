"""SVG snapshots of the main screen at 80x24 and 120x40, in a fixed synthetic state."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import pytest

from qmigtui.model.records import parse_record
from qmigtui.ui.app import MigrationApp
from qmigtui.watch.context import Forecaster
from qmigtui.watch.snapshot import Snapshot
from tests.ui.fixed_state import GIB, fixed_snapshot, with_source


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


def in_state(status: str) -> Snapshot:
    """The fixed migration in another state on both sides, its forecast worked out anew."""
    snap = fixed_snapshot()
    extra: dict = {}
    dest_status = {"postcopy-paused": "postcopy-paused", "completed": "completed",
                   "cancelled": "failed"}.get(status, status if status.startswith("postcopy") else "active")
    if status == "postcopy-active":
        extra = {"ram": {"transferred": 1_700_000_000, "remaining": 60_000_000, "total": GIB,
                         "mbps": 160.0, "dirty-sync-count": 3, "postcopy-requests": 420,
                         "page-size": 4096}}
    elif status == "postcopy-paused":
        extra = {"error-desc": "Connection reset by peer"}
    elif status == "completed":
        extra = {"downtime": 42, "total-time": 31_000,
                 "ram": {"transferred": 1_800_000_000, "remaining": 0, "total": GIB, "mbps": 480.0,
                         "dirty-sync-count": 4, "postcopy-requests": 0, "page-size": 4096}}
    elif status == "cancelled":
        extra = {"total-time": None}
    snap = with_source(snap, status, **extra)
    blocktime = {"postcopy-blocktime": 37} if status == "postcopy-active" else {}
    dest = replace(snap.sides[1], info=parse_record("MigrationInfo",
                                                     {"status": dest_status} | blocktime))
    snap = replace(snap, sides=(snap.sides[0], dest))
    return replace(snap, forecast=Forecaster()(snap))  # worked out where the snapshot is made


STATES = ["active", "postcopy-active", "postcopy-paused", "completed", "cancelled"]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("status", STATES)
def test_status_pane_in_each_state(snap_compare, status, size):
    async def show(pilot) -> None:
        pilot.app.apply_snapshot(in_state(status))
        await pilot.pause()
    assert snap_compare(MigrationApp(None), terminal_size=size, run_before=show)
