"""CheckPoint and Restart from the start dialog, on real QEMUs: the dialog offers the migration
modes the source's own schema has (none on QEMU 7.2), cpr-transfer hands the guest to a new
QEMU started with its two -incoming options, and cpr-exec asks first, then the source QEMU
execs a new QEMU in its place that runs the guest."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path

import pytest
from textual.widgets import Input, Select

from qmigtui.lab.pair import LabConfig
from qmigtui.model import cpr
from tests.helpers import wait_for
from tests.plain_pair import free_port, plain_pair
from tests.ui.test_recover_plain_pair import app_on, open_start_dialog

CPR = LabConfig(mem_mib=64, working_set_mib=16, dirty_rate_mib_s=4, relay=False, cpr=True)


async def _run_status(app, side: str) -> str | None:
    """What the app's own session to ``side`` reads from query-status (a QEMU's monitor takes
    one client: the app's); None while it does not answer."""
    try:
        reply = await app.desk.backend.watcher.session(side).execute("query-status")
    except Exception:
        return None
    return str(reply.get("status"))


async def _modes(app) -> tuple[str, ...]:
    await wait_for(lambda: app.snapshot is not None and app.snapshot.source.parameters is not None, 30,
                   "the app connected")
    schema = await app.desk._watcher.ensure_schema("source")
    return schema.migration_modes


async def _dialog_offers(app, pilot, mode: str) -> bool:
    """Open the start dialog; whether it offers ``mode`` (checked against the schema: a QEMU
    without it gets no such choice)."""
    modes = await _modes(app)
    await open_start_dialog(app, pilot)
    if mode in modes:
        return True
    if app.screen.query("#mode"):
        with pytest.raises(Exception):  # noqa: B017 - Textual's own error for a value not offered
            app.screen.query_one("#mode", Select).value = mode
    else:
        assert len(modes) < 2
    return False


async def test_cpr_transfer_from_the_start_dialog_hands_the_guest_to_a_new_qemu(need_qemu, tmp_path):
    async with plain_pair(CPR) as lab:
        app = app_on(lab, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            if not await _dialog_offers(app, pilot, cpr.TRANSFER):
                return
            select = app.screen.query_one("#mode", Select)
            assert select.value == cpr.NORMAL
            channel = app.screen.query_one("#cpr-channel", Input)
            assert not channel.display  # only cpr-transfer asks for it
            select.value = cpr.TRANSFER
            await pilot.pause(0.2)
            assert channel.display and not app.screen.query_one("#exit-on-error").display
            uri = f"tcp:127.0.0.1:{free_port()}"
            app.screen.query_one("#uri", Input).value = uri
            channel.value = "tcp:127.0.0.1:1"  # a cpr channel passes fds: a unix socket only
            channel.focus()
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert app.screen.__class__.__name__ == "StartMigration"
            assert "unix" in str(app.screen.query_one("#error").render())
            request = cpr.StartRequest(uri, cpr.TRANSFER, f"unix:{Path(lab.dir, 'cpr.sock')}")
            # the new QEMU, as the operator starts it: the same machine and both -incoming
            await asyncio.to_thread(lab.restart, "destination", cpr.incoming_options(request),
                                    request.cpr_channel[5:])
            channel.value = request.cpr_channel
            await pilot.press("enter")
            await wait_for(lambda: app.snapshot.source.status == "completed"
                           and app.snapshot.destination.status == "completed", 60, "handed over")
            await wait_for(lambda: _run_status(app, "destination"), 10, "the new QEMU's monitor")
            assert await _run_status(app, "destination") == "running"
            audit = (tmp_path / "audit.log").read_text()
            assert '"mode":"cpr-transfer"' in audit and '"channel-type":"cpr"' in audit, audit[-1500:]
            assert "migrate-incoming" not in audit  # nothing is sent to the new QEMU before
            await app.action_quit()


async def test_cpr_exec_asks_first_then_the_source_qemu_execs_a_new_one_in_its_place(need_qemu, tmp_path):
    async with plain_pair(CPR) as lab:
        app = app_on(lab, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            if not await _dialog_offers(app, pilot, cpr.EXEC):
                return
            app.screen.query_one("#mode", Select).value = cpr.EXEC
            await pilot.pause(0.2)
            state = Path(lab.dir, "vm.state")
            app.screen.query_one("#uri", Input).value = f"tcp:127.0.0.1:{free_port()}"
            command = app.screen.query_one("#exec-command", Input)
            argv = lab.qemu_argv("source", lab.guest_image, lab.source_socket)
            command.value = shlex.join(argv)  # no -incoming: the new QEMU would not take the guest
            command.focus()
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert "-incoming" in str(app.screen.query_one("#error").render())
            command.value = shlex.join([*argv, "-incoming", f"file:{state}"])
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert "file:" in str(app.screen.query_one("#error").render())  # a stream has no reader
            app.screen.query_one("#uri", Input).value = f"file:{state}"
            await pilot.press("enter")
            await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "asked first")
            assert "-incoming" in str(app.screen.query_one(".hint").render())
            pid = lab.source.pid
            await pilot.press("y")
            cmdline = Path(f"/proc/{pid}/cmdline")
            await wait_for(lambda: b"-incoming" in cmdline.read_bytes(), 60, "the new QEMU in place")
            await wait_for(lambda: _run_status(app, "source"), 30, "its monitor, to the app")
            await wait_for(lambda: app.snapshot.source.status == "completed", 30, "completed")
            assert await _run_status(app, "source") == "running"
            assert '"cpr-exec-command"' in (tmp_path / "audit.log").read_text()
            await app.action_quit()
