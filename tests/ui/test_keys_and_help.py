"""Every key discoverable: a help screen of the keys that apply now, with readable names,
human palette titles, a console one can leave, replies as JSON, short toasts and a message
log (the app on a fixed snapshot, no QEMU)."""

from __future__ import annotations

import html
import json
import re

import pytest
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
        for message, severity in (("fyi", "information"), ("careful", "warning"), ("broken", "error")):
            app.notify(message, severity=severity, timeout=60)
            await pilot.pause()
            (shown,) = app._notifications  # one at a time, the newest
            assert shown.message == message and shown.timeout <= {"fyi": 5}.get(message, 10)
        app.notify("by the way")  # information does not hide an error still showing
        await pilot.pause()
        assert [n.message for n in app._notifications] == ["broken"]
        await pilot.press("l")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), 5, "the message log")
        logged = [text for _, rows in app.screen.sections for _, text in rows]
        assert "careful" in logged and "broken" in logged and "fyi" not in logged


def screen_rows(app) -> list[str]:
    """The rows of the terminal as drawn (from the app's SVG screenshot)."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>',
                         app.export_screenshot()):
        rows.setdefault(float(m[2]), []).append((float(m[1]), html.unescape(m[3])))
    return ["".join(t for _, t in sorted(parts)).replace("\xa0", " ") for _, parts in sorted(rows.items())]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_message_takes_the_footer_row_and_covers_no_pane(size):
    async with showing(size, notifications=True) as (app, pilot, _snap):
        before = screen_rows(app)
        app.notify("replayed to 0:42 " + "x" * 200, severity="error")
        await pilot.pause(0.3)
        after = screen_rows(app)
        bottom = after[-1].replace(" ", "")
        assert bottom.startswith("replayedto0:42xxx") and bottom.endswith("…")  # one row, cut
        assert after[:-1] == before[:-1]  # every pane row (the destination's block) untouched


async def test_a_long_confirmation_keeps_its_buttons_in_view_at_80x24_under_a_message():
    from qmigtui.ui.dialogs import Confirm
    async with showing((80, 24), notifications=True) as (app, pilot, _snap):
        app.push_screen(Confirm("Exercise over", "\n".join(f"line {n}" for n in range(60))))
        await pilot.pause()
        app.notify("a message while the dialog is up", severity="error")
        await pilot.pause(0.3)
        assert "amessagewhilethedialogisup" in screen_rows(app)[-1].replace(" ", "")
        for button in app.screen.query("Button"):  # the message row is below every button
            assert button.region.y >= 0 and button.region.bottom <= 23, button.id


async def test_without_hints_no_remedy_is_shown_or_done():
    from dataclasses import replace

    from qmigtui.analysis.verdict import Advice, AdviceAction, Cause, Facts, Forecast, Verdict
    from qmigtui.ui.status_pane import StatusPane
    from tests.ui.conftest import text_of
    from tests.ui.fixed_state import fixed_snapshot
    remedy = Advice(AdviceAction.SET_PARAMETER, "downtime-limit", "2000ms", 2000.0)
    verdict = Forecast(Verdict.NOT_CONVERGING, Cause.DIRTY_OUTRUNS_LINK,
                       Facts(bandwidth=1 << 20, dirty_rate=2 << 20), advice=(remedy,))
    snap = replace(fixed_snapshot(), forecast=verdict)
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
            assert any("hints are off" in text for _, text in app.notified) is not hints


def test_a_remedy_confirmation_shows_the_literal_json_sent():
    from types import SimpleNamespace

    from qmigtui.analysis.verdict import Advice, AdviceAction
    from qmigtui.ui.advice_keys import sent_json
    desk = SimpleNamespace(snapshot=SimpleNamespace(source=SimpleNamespace(
        parameter_types={"max-bandwidth": "int", "downtime-limit": "int"})))  # as introspection types them
    more = Advice(AdviceAction.SET_PARAMETER, "max-bandwidth", "24M", float(24 << 20))
    assert sent_json(desk, more) == 'migrate-set-parameters {"max-bandwidth": 25165824}'
    down = Advice(AdviceAction.SET_PARAMETER, "downtime-limit", "800ms", 800.0)
    assert sent_json(desk, down) == 'migrate-set-parameters {"downtime-limit": 800}'
