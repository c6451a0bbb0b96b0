"""Every command and event of migration.json has a place in the app, and the README says where."""

from __future__ import annotations

from pathlib import Path

from qmigtui.ui.app import MigrationApp
from qmigtui.ui.coverage import COMMANDS, EVENTS
from qmigtui.ui.tools_pane import ToolsPane
from tests.conftest import migration_qapi
from tests.ui.fixed_state import fixed_snapshot

README = Path(__file__).resolve().parents[2] / "README.md"


def schema_names() -> tuple[set[str], set[str]]:
    commands, events = set(), set()
    for entry in migration_qapi()["definitions"]:
        if "command" in entry:
            commands.add(entry["command"])
        elif "event" in entry:
            events.add(entry["event"])
    return commands, events


def test_every_command_and_event_of_the_schema_file_has_a_place():
    commands, events = schema_names()
    assert commands and events
    assert sorted(commands - set(COMMANDS)) == [], "commands with no place in the app"
    assert sorted(events - set(EVENTS)) == [], "events with no place in the app"
    assert sorted(set(COMMANDS) - commands) == [] and sorted(set(EVENTS) - events) == []


def test_the_readme_table_lists_each_with_its_place():
    text = README.read_text()
    for name, where in {**COMMANDS, **EVENTS}.items():
        assert f"| `{name}` | {where} |" in text, name


async def test_the_tools_pane_has_a_row_for_every_command():
    app = MigrationApp(None)
    async with app.run_test(size=(120, 40)) as pilot:
        app.apply_snapshot(fixed_snapshot())
        await pilot.press("6")
        pane = app.query_one(ToolsPane)
        assert {str(k.value) for k in pane.rows} == set(COMMANDS)
        await pilot.pause()
        assert pane.display and pane.region.height > 0  # in the bottom row, where events were
        assert not app.query_one("#events").region.height
        await pilot.press("1")
        await pilot.pause()
        assert not pane.region.height and app.query_one("#events").region.height
