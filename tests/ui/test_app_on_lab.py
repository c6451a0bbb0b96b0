"""The app driven by keys (Pilot) on a real lab pair: every action, panes, and failures."""

from __future__ import annotations

from rich.text import Text

from qmigtui.lab.pair import LabConfig
from qmigtui.model import units
from qmigtui.model.parameters import format_value
from qmigtui.model.records import parse_record
from qmigtui.model.text import clean
from qmigtui.ui.config_panes import CapabilitiesPane, ParametersPane
from qmigtui.ui.events_pane import EventsPane
from qmigtui.ui.status_pane import StatusPane
from tests.helpers import status_of, wait_for
from tests.ui.conftest import text_of

SLOW = LabConfig(mem_mib=128, working_set_mib=64, dirty_rate_mib_s=40, bandwidth=8 << 20)


async def start_by_keys(app, pilot) -> None:
    await pilot.press("m")
    await wait_for(lambda: app.screen.__class__.__name__ == "StartMigration", 5, "dialog")
    await pilot.press("enter")


async def test_status_pane_follows_a_real_migration_to_completed(lab_app):
    async with lab_app(LabConfig(mem_mib=128, working_set_mib=8, dirty_rate_mib_s=2,
                                 bandwidth=30 << 20)) as (app, pilot, backend):
        pane = app.query_one(StatusPane)
        assert "none" in text_of(pane.rendered)
        await start_by_keys(app, pilot)
        await wait_for(lambda: app.snapshot.source.status == "active", 20, "active")
        await pilot.pause(0.5)
        info = app.snapshot.source.info
        shown = text_of(pane.rendered)
        assert "active" in shown and "of first pass" in shown and " left" in shown
        assert units.format_bytes(info.number("ram.transferred")) in shown
        assert units.format_bytes(info.number("ram.total")) in shown
        await wait_for(lambda: app.snapshot.source.status == "completed", 60, "completed")
        await pilot.pause(0.3)
        source = backend.watcher.session("source")
        final = parse_record("MigrationInfo", await source.execute("query-migrate"))
        shown = text_of(app.query_one(StatusPane).rendered)
        assert "completed" in shown and "all sent" in shown
        assert units.format_bytes(final.number("ram.transferred")) in shown
        assert units.format_ms(final.number("downtime")) in shown
        events = app.query_one(EventsPane)
        assert any("MIGRATION" in line.text for line in events.lines)


async def test_cancel_key_asks_then_cancels_and_a_second_press_sends_nothing(lab_app):
    async with lab_app(SLOW) as (app, pilot, backend):
        cancels: list[str] = []
        backend.watcher.session("source").hub.add_tap(
            lambda kind, msg: cancels.append(msg["execute"])
            if kind == "command" and msg["execute"] == "migrate_cancel" else None)
        await start_by_keys(app, pilot)
        await wait_for(lambda: app.snapshot.source.status == "active", 20, "active")
        await pilot.press("x")
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "confirmation")
        await pilot.press("y")
        await pilot.press("x", "y")  # a second press while the first runs must not send twice
        await wait_for(lambda: app.snapshot.source.status == "cancelled", 20, "cancelled")
        await pilot.pause(0.5)
        assert cancels == ["migrate_cancel"]


async def test_postcopy_pause_and_recover_by_keys_to_completed(lab_app):
    async with lab_app(SLOW, capabilities={"postcopy-ram": True},
                       parameters={"max-postcopy-bandwidth": 4 << 20}) as (app, pilot, backend):
        await start_by_keys(app, pilot)
        await wait_for(lambda: app.snapshot.source.status == "active", 20, "active")
        await pilot.press("p")
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "confirm postcopy")
        await pilot.press("y")
        await wait_for(lambda: app.snapshot.source.status == "postcopy-active", 20, "postcopy-active")
        await pilot.press("z")
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "confirm pause")
        await pilot.press("y")
        await wait_for(lambda: app.snapshot.source.status == "postcopy-paused"
                       and app.snapshot.destination.status == "postcopy-paused", 30, "both paused")
        await backend.watcher.session("source").execute("migrate-set-parameters",
                                                        {"max-postcopy-bandwidth": 0})
        await pilot.press("r")
        await wait_for(lambda: app.screen.__class__.__name__ == "RecoverPostcopy", 5, "recover dialog")
        await pilot.press("enter")  # the lab's own addresses, prefilled
        await wait_for(lambda: app.snapshot.source.status == "completed", 60, "completed")


async def test_continue_from_pre_switchover(lab_app):
    async with lab_app(LabConfig(mem_mib=128, working_set_mib=8, dirty_rate_mib_s=2),
                       capabilities={"pause-before-switchover": True}) as (app, pilot, _backend):
        await start_by_keys(app, pilot)
        await wait_for(lambda: app.snapshot.source.status == "pre-switchover", 30, "pre-switchover")
        await pilot.press("n")
        await wait_for(lambda: app.snapshot.source.status == "completed", 30, "completed")


async def test_capability_toggle_and_parameter_edit_reach_qemu(lab_app):
    async with lab_app() as (app, pilot, backend):
        src = backend.watcher.session("source")
        dst = backend.watcher.session("destination")
        await pilot.press("3")
        caps = app.query_one(CapabilitiesPane)
        caps.move_cursor(row=caps.get_row_index("auto-converge"))
        await pilot.press("space")

        async def auto_converge_on(session):
            reply = await session.execute("query-migrate-capabilities")
            return {c["capability"]: c["state"] for c in reply}["auto-converge"]
        await wait_for(lambda: auto_converge_on(src), 10, "auto-converge on, source")
        assert await auto_converge_on(dst)

        await pilot.press("4")
        params = app.query_one(ParametersPane)
        params.move_cursor(row=params.get_row_index("downtime-limit"))
        sent = []
        src.hub.add_tap(lambda kind, msg: sent.append(msg.get("execute")) if kind == "command" else None)
        await pilot.press("enter")
        await wait_for(lambda: app.screen.__class__.__name__ == "EditParameter", 5, "editor")
        await pilot.press("ctrl+a", "ctrl+k", *"9000s", "enter")  # out of range: refused inline
        await pilot.pause(0.3)
        assert app.screen.__class__.__name__ == "EditParameter"
        assert "out of range" in str(app.screen.query_one("#error").render())
        assert "migrate-set-parameters" not in sent
        await pilot.press("ctrl+a", "ctrl+k", *"1.5s", "enter")

        async def downtime():
            return (await src.execute("query-migrate-parameters"))["downtime-limit"]
        await wait_for(lambda: _eq(downtime(), 1500), 10, "downtime-limit 1500")
        await wait_for(lambda: "1500 ms" in str(params.get_row("downtime-limit")), 10, "pane updated")


async def _eq(coro, value):
    return (await coro) == value


async def test_every_parameter_of_this_qemus_schema_is_shown_typed_and_editable(lab_app):
    async with lab_app() as (app, pilot, backend):
        src = backend.watcher.session("source")
        schema = await backend.watcher.ensure_schema("source")
        raw = await src.execute("query-migrate-parameters")
        await pilot.press("4")
        params = app.query_one(ParametersPane)
        await wait_for(lambda: {str(k.value) for k in params.rows} == set(schema.parameters), 10,
                       "a row for each parameter of the schema")
        def cell(row: str, column: str) -> str:  # cells hold escaped text: [x] is shown as [x]
            return Text.from_markup(params.get_cell(row, column)).plain
        for name, arg in schema.parameters.items():
            assert cell(name, "type") == arg.type, name
            if name in raw:  # read back from QEMU, in our units, whatever QEMU added since 8.2
                assert cell(name, "source") == clean(format_value(name, raw[name]), 200)
                assert cell(name, "source") != "-", name
        # a boolean the 8.2 tables do not know when QEMU has one (10.0: direct-io), else ours
        name = "direct-io" if "direct-io" in schema.parameters else "cpu-throttle-tailslow"
        was = bool(raw[name])
        params.move_cursor(row=params.get_row_index(name))
        await pilot.press("enter")
        await wait_for(lambda: app.screen.__class__.__name__ == "EditParameter", 5, "editor")
        await pilot.press("ctrl+a", "ctrl+k", *("off" if was else "on"), "enter")

        async def value():
            return (await src.execute("query-migrate-parameters"))[name]
        await wait_for(lambda: _eq(value(), not was), 10, f"{name} flipped in QEMU, as a boolean")
        await wait_for(lambda: params.get_cell(name, "source") == ("off" if was else "on"), 10,
                       "the pane read it back")


async def test_qemu_refusal_is_shown_with_its_own_words(lab_app):
    async with lab_app(SLOW) as (app, pilot, _backend):
        await start_by_keys(app, pilot)
        await wait_for(lambda: app.snapshot.source.status == "active", 20, "active")
        await pilot.press("3")
        caps = app.query_one(CapabilitiesPane)
        caps.move_cursor(row=caps.get_row_index("xbzrle"))
        await pilot.press("s")
        await wait_for(lambda: any(text.startswith("source refused migrate-set-capabilities: ")
                                   and "migration" in text.lower() and severity == "error"
                                   for severity, text in app.notified), 10, "QEMU's refusal shown")


async def test_killed_destination_shows_as_gone_and_app_keeps_running(lab_app):
    async with lab_app(SLOW) as (app, pilot, backend):
        await start_by_keys(app, pilot)
        await wait_for(lambda: app.snapshot.source.status == "active", 20, "active")
        backend.rig.lab.kill("destination")
        await wait_for(lambda: app.snapshot.destination.connection in ("gone", "reconnecting"), 15,
                       "destination lost")
        await wait_for(lambda: app.snapshot.source.status == "failed", 30, "source failed")
        shown = text_of(app.query_one(StatusPane).rendered)
        assert "failed" in shown and ("gone" in shown or "reconnecting" in shown)
        await pilot.press("2", "5", "1")  # still responsive
        assert app.is_running


async def test_read_only_greys_out_every_action_and_sends_nothing(lab_app):
    async with lab_app(read_only=True) as (app, pilot, backend):
        src = backend.watcher.session("source")
        sent = []
        src.hub.add_tap(lambda kind, msg: sent.append(msg.get("execute")) if kind == "command" else None)
        for action in ("migrate", "postcopy", "pause", "recover", "continue", "cancel"):
            assert app.check_action(action, ()) is None
        await pilot.press("m", "x", "p", "z", "r", "n")
        await pilot.press("3", "space", "4", "enter")
        await pilot.pause(0.5)
        assert all(c.startswith("query-") for c in sent), sent
        assert "READ-ONLY" in str(app.query_one("#topline").render())
        assert await status_of(src) == "none"


async def test_q_in_the_lab_asks_while_a_migration_runs(lab_app):
    async with lab_app(SLOW) as (app, pilot, _backend):
        await start_by_keys(app, pilot)
        await wait_for(lambda: app.snapshot.source.status == "active", 20, "active")
        await pilot.press("q")
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "q asks")
        await pilot.press("n")
        await pilot.pause(0.3)
        assert app.is_running and app.snapshot.source.status == "active"
