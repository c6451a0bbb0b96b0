"""Every key discoverable: a help screen of the keys that apply now, with readable names,
human palette titles, a console one can leave, replies as JSON, short toasts and a message
log (the app on a fixed snapshot, no QEMU)."""

from __future__ import annotations

import json

from textual.command import CommandPalette

from qmigtui.ui.app import MigrationApp
from qmigtui.ui.console_pane import ConsolePane
from qmigtui.ui.help_screen import HelpScreen
from qmigtui.ui.tools_pane import render_result
from tests.helpers import wait_for
from tests.ui.fixed_state import showing


async def test_question_mark_opens_a_help_screen_of_the_keys_that_apply_now():
    async with showing((80, 24)) as (app, pilot, _snap):
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), 5, "the help screen")
        keys = dict(row for _, rows in app.screen.sections for row in rows)
        assert "?" in keys and "ctrl+p" in keys and "1" in keys
        assert not any("," in k or "_" in k for k in keys), keys  # no plus,equals_sign
        assert "Faster" not in keys.values()  # replay keys only while replaying
        assert "lab: cut the link" not in keys.values()  # lab keys only in the lab
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, HelpScreen), 5, "closed")
        await pilot.press("4", "question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), 5, "again")
        assert any(title.startswith("In pane 4") for title, _ in app.screen.sections)
        await pilot.press("question_mark")
        await wait_for(lambda: not isinstance(app.screen, HelpScreen), 5, "? closes it too")


async def test_palette_entries_have_human_titles():
    app = MigrationApp(None)
    async with app.run_test(size=(120, 40)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        helps = [c.help for c in app.get_system_commands(app.screen)]
        assert "Graphs" in titles and "Migrate" in titles
        assert not any("qmigtui:" in h or "focus_pane" in h for h in helps), helps
        assert CommandPalette is not None
        await app.action_quit()


async def test_escape_leaves_the_console_and_its_keys_are_in_the_footer():
    async with showing((120, 40)) as (app, pilot, _snap):
        await pilot.press("7")
        console = app.query_one(ConsolePane)
        assert app.focused is console.query_one("#console-input")
        shown = {b.binding.description for b in app.active_bindings.values() if b.binding.show}
        assert "Leave console" in shown
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_pane == "status"


def test_replies_are_json_not_python():
    text = render_result("query-x", {"on": True, "none": None, "s": "a"}).plain
    assert json.loads(text) == {"on": True, "none": None, "s": "a"}


async def test_toasts_are_short_and_warnings_stay_in_the_message_log():
    async with showing((80, 24)) as (app, pilot, _snap):
        app.notify("fyi", timeout=60)
        app.notify("careful", severity="warning", timeout=60)
        app.notify("broken", severity="error", timeout=60)
        await pilot.pause()
        timeouts = {n.message: n.timeout for n in app._notifications}
        assert timeouts["fyi"] <= 5 and timeouts["careful"] <= 10 and timeouts["broken"] <= 10
        await pilot.press("l")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), 5, "the message log")
        logged = [text for _, rows in app.screen.sections for _, text in rows]
        assert "careful" in logged and "broken" in logged and "fyi" not in logged


async def test_a_long_confirmation_keeps_its_buttons_in_view_at_80x24():
    from qmigtui.ui.dialogs import Confirm
    async with showing((80, 24)) as (app, pilot, _snap):
        app.push_screen(Confirm("Exercise over", "\n".join(f"line {n}" for n in range(60))))
        await pilot.pause()
        for button in app.screen.query("Button"):
            assert button.region.y >= 0 and button.region.bottom <= 24, button.id


async def test_without_hints_no_remedy_is_shown_or_done():
    from dataclasses import replace

    from qmigtui.analysis.forecast import Advice, AdviceAction, Forecast, Verdict
    from qmigtui.ui.status_pane import StatusPane
    from tests.ui.conftest import text_of
    from tests.ui.fixed_state import fixed_snapshot
    remedy = Advice(AdviceAction.SET_PARAMETER, "raise downtime-limit to 2 s", "the hot set fits",
                    "downtime-limit", "2000ms")
    verdict = Forecast(Verdict.NOT_CONVERGING, "guest dirties more than the link carries",
                       reasons=(("bandwidth", "1 MiB/s"),), advice=(remedy,))
    snap = replace(fixed_snapshot(), forecaster=lambda _snap: verdict)
    for hints in (True, False):
        app = MigrationApp(None, hints=hints)
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_one(StatusPane).hints = hints
            app.apply_snapshot(snap)
            await pilot.pause()
            shown = text_of(app.query_one(StatusPane).rendered)
            assert ("raise downtime-limit" in shown) is hints
            await pilot.press("a")
            await pilot.pause()
            assert any("hints are off" in n.message for n in app._notifications) is not hints
