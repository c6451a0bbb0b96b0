"""Every mutating command the app sends lands in the audit log once, with QEMU's answer."""

from __future__ import annotations

from qmigtui.control import audit
from qmigtui.model.commands import is_query
from qmigtui.ui.config_panes import CapabilitiesPane, ParametersPane
from tests.helpers import wait_for
from tests.ui.test_app_on_lab import SLOW, start_by_keys


async def test_each_action_writes_one_audit_line_with_qemus_answer(lab_app):
    async with lab_app(SLOW) as (app, pilot, backend):
        wire: list[tuple[str, str]] = []  # mutating commands as they left for QEMU
        for name, side in backend.watcher.sides.items():
            side.session.hub.add_tap(lambda kind, msg, name=name: wire.append((name, msg["execute"]))
                                 if kind == "command" and not is_query(msg["execute"], msg.get("arguments"))
                                 else None)
        log = backend.audit.path

        await pilot.press("4")  # a parameter: accepted
        params = app.query_one(ParametersPane)
        params.move_cursor(row=params.get_row_index("downtime-limit"))
        await pilot.press("enter")
        await wait_for(lambda: app.screen.__class__.__name__ == "EditParameter", 5, "editor")
        await pilot.press("ctrl+a", "ctrl+k", *"400", "enter")
        await wait_for(lambda: len(audit.read(log)) == 1, 10, "one audit line")

        await start_by_keys(app, pilot)  # migrate-incoming on the destination, migrate on the source
        await wait_for(lambda: app.snapshot.source.status == "active", 20, "active")
        await pilot.press("3")  # a capability while migrating: QEMU refuses
        caps = app.query_one(CapabilitiesPane)
        caps.move_cursor(row=caps.get_row_index("xbzrle"))
        await pilot.press("s")
        await wait_for(lambda: any(e["answer"].startswith("error:") for e in audit.read(log)), 10,
                       "the refusal logged")
        await pilot.press("x")  # cancel, confirmed
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "confirmation")
        await pilot.press("y")
        await wait_for(lambda: app.snapshot.source.status == "cancelled", 20, "cancelled")

        everything = audit.read(log)
        assert [(e["side"], e["command"]) for e in everything] == wire
        # the app's own measurement when the precopy started: audited like the rest
        auto = [e for e in everything if e["command"] == "calc-dirty-rate"]
        assert len(auto) == 1 and auto[0]["answer"] == "ok"
        entries = [e for e in everything if e["command"] != "calc-dirty-rate"]
        assert [e["command"] for e in entries] == [
            "migrate-set-parameters", "migrate-incoming", "migrate", "migrate-set-capabilities",
            "migrate_cancel"]
        refused = entries[3]
        assert refused["answer"].startswith("error: ") and "migration" in refused["answer"].lower()
        assert all(e["answer"] == "ok" for i, e in enumerate(entries) if i != 3)
        assert entries[0]["arguments"] == {"downtime-limit": 400}
        assert entries[2]["endpoint"] == backend.watcher.session("source").traits.address
