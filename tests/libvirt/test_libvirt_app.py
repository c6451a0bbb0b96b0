"""The app on a domain under a real private libvirt: attached with no second monitor, a
migration started and cancelled from the keys, raw QMP asked for with libvirt's taint said."""

from __future__ import annotations

from textual.widgets import Input

from qmigtui.desk.opening import open_endpoints
from qmigtui.ui.app import MigrationApp
from tests.helpers import wait_for
from tests.plain_pair import free_port


def _app(src, dst, domain, tmp_path, monitor):
    return MigrationApp(lambda: open_endpoints(
        [("source", f"libvirt:{src.uri}#{domain}"), ("destination", f"libvirt:{dst.uri}#{domain}")],
        0.3, False, audit=tmp_path / "audit.log", monitor=monitor))


async def _attached(app):
    await wait_for(lambda: app.snapshot is not None and app.snapshot.source.connection == "connected"
                   and app.snapshot.source.supported_commands, 30, "attached")


async def test_the_app_drives_a_domain_through_libvirt_and_says_when_it_would_taint(libvirt_hosts, tmp_path):
    src, dst = libvirt_hosts
    domain = src.create("shop1", working_set_mib=64, dirty_rate_mib_s=8)
    src.virsh("migrate-setspeed", domain, "8")
    app = _app(src, dst, domain, tmp_path, monitor=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _attached(app)
        assert app.snapshot.destination.connection == "reconnecting"  # not there until it migrates
        await pilot.press("m")
        await wait_for(lambda: app.screen.__class__.__name__ == "StartMigration", 5, "dialog")
        assert app.screen.query_one("#uri", Input).value == ""  # libvirt's choice, or the operator's
        app.screen.query_one("#uri", Input).value = f"tcp:127.0.0.1:{free_port()}"
        await pilot.press("enter")
        await wait_for(lambda: app.snapshot.source.status == "active", 30, "active")
        await wait_for(lambda: app.snapshot.destination.connection == "connected", 10,
                       "the destination's half appeared")
        await pilot.press("x")
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "cancel asks")
        await pilot.press("y")
        await wait_for(lambda: app.snapshot.source.status == "cancelled", 30, "cancelled")
        audit = (tmp_path / "audit.log").read_text()
        assert "migrate_cancel" in audit and '"migrate"' in audit
        await app.action_quit()
    assert "custom-monitor" not in src.domain_log(domain), "watched and driven through libvirt's API"

    app = _app(src, dst, domain, tmp_path, monitor=True)  # the operator's opt-in
    async with app.run_test(size=(120, 40)) as pilot:
        await _attached(app)
        assert "query-status" in app.snapshot.source.supported_commands, "QEMU's whole schema"
        await pilot.press("7")
        await pilot.press(*"query-status", "enter")
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "even a query asks")
        assert "tainted (custom-monitor)" in app.screen.question
        await pilot.press("y")
        await app.action_quit()
    assert "custom-monitor" in src.domain_log(domain)
