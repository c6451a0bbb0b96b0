"""Recovery on a pair that is not the lab: the addresses come from QEMU and from the URI the
migration was started with, never placeholders, and the paused postcopy completes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from qmigtui.desk.opening import open_endpoints
from qmigtui.lab.pair import Lab
from qmigtui.ui.app import MigrationApp
from tests.helpers import wait_for
from tests.plain_pair import free_port, plain_pair

MiB = 1 << 20


def app_on(lab: Lab, tmp_path: Path) -> MigrationApp:
    """The app on the pair's two sockets, as an operator opens any pair."""
    return MigrationApp(lambda: open_endpoints(
        [("source", lab.source_socket), ("destination", lab.destination_socket)], 0.3, False,
        audit=tmp_path / "audit.log"))


async def open_start_dialog(app: MigrationApp, pilot: Any) -> None:
    await pilot.press("m")
    await wait_for(lambda: app.screen.__class__.__name__ == "StartMigration", 5, "dialog")


async def test_a_postcopy_paused_on_a_plain_pair_recovers_with_the_prefilled_addresses(need_qemu, tmp_path):
    port = free_port()
    uri = f"tcp:127.0.0.1:{port}"
    async with plain_pair(capabilities={"postcopy-ram": True},
                          source_parameters={"max-bandwidth": 16 * MiB,
                                             "max-postcopy-bandwidth": 4 * MiB}) as lab:
        app = app_on(lab, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.snapshot is not None and app.snapshot.source.capabilities, 30,
                           "the app connected")
            await open_start_dialog(app, pilot)
            box = app.screen.query_one("#uri", Input)
            box.value = uri  # the operator's own address for the destination
            await pilot.press("enter")
            await wait_for(lambda: app.snapshot.source.status == "active", 30, "active")
            await pilot.press("p")
            await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "confirm postcopy")
            await pilot.press("y")
            await wait_for(lambda: app.snapshot.destination.status == "postcopy-active", 30,
                           "postcopy-active on both")
            await pilot.press("z")
            await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "confirm pause")
            await pilot.press("y")
            await wait_for(lambda: app.snapshot.source.status == "postcopy-paused"
                           and app.snapshot.destination.status == "postcopy-paused", 30, "both paused")
            assert app.snapshot.forecast.cause == "paused-by-operator"  # asked for, not a failure

            await pilot.press("r")
            await wait_for(lambda: app.screen.__class__.__name__ == "RecoverPostcopy", 5, "recover dialog")
            listen = app.screen.query_one("#listen", Input).value
            connect = app.screen.query_one("#connect", Input).value
            assert connect == uri  # what the source was started with
            assert listen.endswith(f":{port}") and "PORT" not in listen and "HOST" not in listen
            sent: list[tuple[str, dict]] = []
            for side in ("source", "destination"):
                app.desk.backend.watcher.session(side).hub.add_tap(
                    lambda kind, msg, side=side: sent.append((side, msg))
                    if kind == "command" and msg["execute"] in ("migrate", "migrate-recover") else None)
            await pilot.press("enter")
            await wait_for(lambda: app.snapshot.source.status == "completed"
                           and app.snapshot.destination.status == "completed", 90, "completed")
            assert [(side, msg["execute"], msg["arguments"]["uri"]) for side, msg in sent] == [
                ("destination", "migrate-recover", listen), ("source", "migrate", uri)]
            await app.action_quit()


async def test_the_start_dialog_prefills_a_real_address_and_never_sends_a_placeholder(need_qemu, tmp_path):
    from qmigtui.control.outcomes import ControlError
    async with plain_pair() as lab:
        app = app_on(lab, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.snapshot is not None and app.snapshot.source.capabilities, 30,
                           "the app connected")
            await open_start_dialog(app, pilot)
            box = app.screen.query_one("#uri", Input)
            assert box.value == "tcp:127.0.0.1:4444"  # both monitors here: this host
            for typed, said in (("tcp:DEST-HOST:4444", "placeholder"), ("tcp:0.0.0.0:4444", "0.0.0.0"),
                                ("", "an address is needed"), ("tcp:10.0.0.1:http", "a port")):
                box.value = typed
                await pilot.press("enter")
                await pilot.pause(0.2)
                assert app.screen.__class__.__name__ == "StartMigration", typed  # not sent
                assert said in str(app.screen.query_one("#error").render()), typed
            offered = bool(app.screen.query("#exit-on-error"))  # where the destination takes it
            schema = await app.desk._watcher.ensure_schema("destination")
            assert offered == (schema.command_arg("migrate-incoming", "exit-on-error") is not None)
            await pilot.press("escape")
            with pytest.raises(ControlError, match="placeholder"):
                await app.desk.start_migration("tcp:DEST-HOST:4444")
            await pilot.pause(1.0)
            assert app.snapshot.destination.status == "none"  # no migrate-incoming went out
            audit = (tmp_path / "audit.log").read_text() if (tmp_path / "audit.log").exists() else ""
            assert "migrate-incoming" not in audit
            await open_start_dialog(app, pilot)
            app.screen.query_one("#uri", Input).value = f"tcp:127.0.0.1:{free_port()}"
            if offered:  # the operator keeps a failed destination QEMU to look at
                app.screen.query_one("#exit-on-error").value = False
            await pilot.press("enter")
            await wait_for(lambda: app.snapshot.source.status in ("active", "completed"), 30, "started")
            sent = (tmp_path / "audit.log").read_text()
            assert "migrate-incoming" in sent
            assert ('"exit-on-error":false' in sent) == offered, sent[-1500:]
            await app.action_quit()
