"""What the operator is told of an action's outcome, against a fake QMP peer (a test double,
not QEMU): a command QEMU does not answer in time may have been applied (said so, as a
warning), a refusal is QEMU's own words (an error)."""

from __future__ import annotations

from qmigtui.desk.opening import open_endpoints
from qmigtui.ui.app import MigrationApp
from qmigtui.ui.config_panes import ParametersPane
from tests.control.test_record_keeping import Settable
from tests.fakeqmp import FakeQmp
from tests.helpers import wait_for


async def _edit_downtime(app, pilot) -> None:
    await pilot.press("4")
    params = app.query_one(ParametersPane)
    await wait_for(lambda: params.row_count > 0, 5, "parameters shown")
    params.move_cursor(row=params.get_row_index("downtime-limit"))
    await pilot.press("enter")
    await wait_for(lambda: app.screen.__class__.__name__ == "EditParameter", 5, "editor")
    await pilot.press("ctrl+a", "ctrl+k", *"400", "enter")


async def test_no_answer_says_it_may_have_been_applied_and_a_refusal_says_qemus_words(tmp_path):
    qemu = Settable()
    fake = await FakeQmp(str(tmp_path / "qmp.sock"), qemu).start()
    try:
        app = MigrationApp(lambda: open_endpoints([("source", fake.path)], 0.2, False,
                                                  audit=tmp_path / "audit.log"))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.snapshot is not None and app.snapshot.source.parameters, 10,
                           "connected")
            app.desk.backend.watcher.session("source").timeout = 0.5
            qemu.slow.add("migrate-set-parameters")
            await _edit_downtime(app, pilot)
            said = await wait_for(lambda: [(sev, t) for sev, t in app.notified if "400" in t or
                                           "no answer" in t], 10, "the timeout told")
            assert said[-1] == ("warning", "source: migrate-set-parameters: no answer yet: it may "
                                "have been applied; what QEMU did is read back and audited when it "
                                "answers"), said
            qemu.slow.clear()
            qemu.refuse["migrate-set-parameters"] = "Parameter 'downtime-limit' is [b]bold[/b]"
            await _edit_downtime(app, pilot)
            await wait_for(lambda: ("error", "source refused migrate-set-parameters: Parameter "
                                    "'downtime-limit' is [b]bold[/b]") in app.notified, 10,
                           "QEMU's own words, as text")
            await app.action_quit()
    finally:
        await fake.stop()
