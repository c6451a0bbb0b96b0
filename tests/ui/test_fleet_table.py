"""The fleet table shows a changed row at once with only that line refreshed, and none for
rows below the screen (a layout test in a minimal app, no QEMU)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from qmigtui.desk.fleet import FleetRow
from qmigtui.ui.fleet_table import FleetTable


def row(name: str, state: str) -> FleetRow:
    return FleetRow(name, "/run/x.qmp", state, None, None, "", None, 0)


class Table(App[None]):
    def compose(self) -> ComposeResult:
        yield FleetTable()


async def test_the_table_shows_a_changed_row_and_refreshes_only_lines_on_screen():
    app = Table()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(FleetTable)
        rows = [row(f"vm-{n:03}", "active") for n in range(200)]
        table.show(rows)
        await pilot.pause()
        refreshed: list[tuple[int, int]] = []
        original = table.refresh_lines
        table.refresh_lines = lambda y, n=1: (refreshed.append((y, n)), original(y, n))[1]  # type: ignore[method-assign]
        rows[3] = row("vm-003", "postcopy-active")
        rows[150] = row("vm-150", "failed")  # below the screen: not refreshed
        table.show(rows)
        await pilot.pause()
        assert refreshed == [(3, 1)]
        assert "postcopy-active" in app.export_screenshot()  # what the screen shows
        assert "postcopy-active" in table.render_line(3).text
        assert "vm-003" in table.render_line(3).text
