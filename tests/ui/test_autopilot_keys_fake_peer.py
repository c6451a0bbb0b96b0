"""The autopilot on a desk, against a fake QMP peer (a test double, not QEMU): A shows the
policy's objectives and every act it may take and asks once; yes engages it and the status
pane shows its plan; A again lets go; --autopilot engages it at the start; a read-only desk
offers no autopilot."""

from __future__ import annotations

from qmigtui.desk.opening import open_endpoints
from qmigtui.ui.app import MigrationApp
from qmigtui.ui.events_pane import EventsPane
from qmigtui.ui.status_pane import StatusPane
from tests.control.test_record_keeping import Settable
from tests.fakeqmp import FakeQmp
from tests.helpers import wait_for


def _app(fake: FakeQmp, tmp_path, read_only: bool = False, autopilot: str | None = None) -> MigrationApp:
    return MigrationApp(lambda: open_endpoints([("source", fake.path)], 0.2, read_only,
                                               audit=tmp_path / "audit.log"), autopilot=autopilot)


async def _engaged_at_start(app: MigrationApp) -> None:
    await wait_for(lambda: app.desk is not None and app.desk.autopilot.engaged is not None, 10,
                   "engaged at the start")


async def test_a_engages_after_one_confirmation_and_again_lets_go(tmp_path):
    fake = await FakeQmp(str(tmp_path / "qmp.sock"), Settable()).start()
    try:
        app = _app(fake, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.snapshot is not None and app.desk is not None, 10, "connected")
            await pilot.press("A")
            await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "the question")
            shown = " ".join(str(w.render()) for w in app.screen.query("Label, Static"))
            assert "Engage the autopilot (qmigtui)?" in shown and "most downtime 500 ms" in shown
            assert "it may: sets" in shown and "cancels the migration" in shown
            assert app.desk.autopilot.engaged is None  # nothing before the answer
            await pilot.press("y")
            await wait_for(lambda: app.desk.autopilot.engaged is not None, 5, "engaged")
            status = app.query_one(StatusPane)
            await wait_for(lambda: "autopilot qmigtui: no migration runs" in status.plan, 5,
                           "the plan")
            await pilot.press("A")
            await wait_for(lambda: app.desk.autopilot.engaged is None, 5, "let go")
            assert status.plan == "autopilot qmigtui: disengaged"
            await app.action_quit()
    finally:
        await fake.stop()


async def test_the_command_line_engages_it_and_read_only_offers_none(tmp_path):
    fake = await FakeQmp(str(tmp_path / "qmp.sock"), Settable()).start()
    try:
        app = _app(fake, tmp_path, autopilot="nova")
        async with app.run_test(size=(120, 40)):
            await _engaged_at_start(app)
            assert app.desk.autopilot.engaged.name == "nova"
            await app.action_quit()
        app = _app(fake, tmp_path, read_only=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.desk is not None, 10, "connected")
            assert app.check_action("autopilot", ()) is False
            await pilot.press("A")
            assert app.screen.__class__.__name__ != "Confirm"
            await app.action_quit()
    finally:
        await fake.stop()


async def test_what_the_autopilot_does_stays_in_the_events_pane_with_its_reason(tmp_path):
    fake = await FakeQmp(str(tmp_path / "qmp.sock"), Settable()).start()
    try:
        app = _app(fake, tmp_path, autopilot="qmigtui")
        async with app.run_test(size=(120, 40)):
            await _engaged_at_start(app)
            await app.desk.backend.controller.set_parameter("source", "downtime-limit", "250")
            await wait_for(lambda: app.desk.autopilot.engaged is None, 5, "standing down")
            events = app.query_one(EventsPane)
            lines = lambda: ["".join(seg.text for seg in strip) for strip in events.lines]  # noqa: E731
            await wait_for(lambda: any(" ours autopilot qmigtui: stands down" in line
                                       for line in lines()), 5, "the act in the events pane")
            events.set_filter("stands down")  # kept for a new filter too
            assert [line for line in lines() if "ours" in line], lines()
            await app.action_quit()
    finally:
        await fake.stop()
