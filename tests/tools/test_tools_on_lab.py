"""The rest of migration.json against real QEMU: dirty rate, vCPU dirty limits, migration
threads, snapshots as jobs; and the console and tools pane in the real app."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from qmigtui.control import measure
from qmigtui.control.outcomes import ControlError
from qmigtui.control.tools import Tools
from qmigtui.lab.pair import LabConfig
from qmigtui.model.commands import is_query
from qmigtui.qmp.errors import ReadOnlyRefused
from qmigtui.ui.console_pane import ConsolePane
from qmigtui.ui.tools_pane import ResultView, ToolsPane
from tests.helpers import wait_for

MiB = 1 << 20


async def test_page_sampling_reads_the_guests_configured_rate(make_rig):
    rig = await make_rig(LabConfig(mem_mib=256, working_set_mib=128, dirty_rate_mib_s=20))
    rates = [(await measure.dirty_rate(rig.controller, 1)).bytes_per_s / MiB for _ in range(3)]
    # 20 MiB/s: the middle reading within 30 % (measured: 18-21); each within 50 %, as a TCG
    # guest starved for a second on a busy machine dirties less (13 seen once on Debian 13)
    assert 14 <= sorted(rates)[1] <= 26 and all(10 <= r <= 30 for r in rates), rates


async def test_dirty_bitmap_is_refused_under_tcg_before_it_can_take_qemu_down(make_rig):
    rig = await make_rig()
    with pytest.raises(ControlError, match="dirty-bitmap"):
        await measure.dirty_rate(rig.controller, 1, mode="dirty-bitmap")
    assert (await rig.source.execute("query-status"))["status"] == "running"


async def test_vcpu_dirty_limit_commands_show_qemus_own_answer(make_rig):
    rig = await make_rig()
    tools = Tools(rig.controller)
    with pytest.raises(ControlError) as e:
        await tools.run("source", "set-vcpu-dirty-limit", {"dirty-rate": 10})
    assert "set-vcpu-dirty-limit" in str(e.value) and len(str(e.value)) > 30  # QEMU's words
    with pytest.raises(ControlError, match="no argument 'dirty_rate'"):
        await tools.run("source", "set-vcpu-dirty-limit", {"dirty_rate": 10})  # not even sent
    try:
        answer = await tools.run("source", "query-vcpu-dirty-limit")
        assert isinstance(answer, list)
    except ControlError as refused:
        assert "dirty" in str(refused).lower()


async def test_migration_threads_with_host_tids_and_cpu_during_a_real_migration(make_rig):
    rig = await make_rig(LabConfig(mem_mib=128, working_set_mib=64, dirty_rate_mib_s=40,
                                   bandwidth=8 * MiB))
    tools = Tools(rig.controller)
    await rig.controller.start_migration()
    await wait_for(lambda: rig.watcher.snapshot.source.status == "active", 20, "active")
    first = await tools.threads("source")
    await asyncio.sleep(1.0)
    rows = await tools.threads("source")
    assert rows and all(r.tid > 0 for r in rows), first
    assert any("migration" in r.name or r.name.startswith("mig/") for r in rows)  # 7.2, 10.0
    assert all(Path(f"/proc/{r.tid}").exists() for r in rows)
    assert all(r.cpu_percent is not None and r.cpu_percent >= 0 for r in rows)
    await rig.controller.cancel()


async def test_snapshot_save_load_delete_are_followed_as_jobs_to_concluded(make_rig):
    rig = await make_rig(LabConfig(mem_mib=64, working_set_mib=8, dirty_rate_mib_s=2, disk_mib=64))
    tools = Tools(rig.controller)
    seen: list[str] = []
    rig.source.hub.add_tap(lambda kind, msg: seen.append(msg["data"]["status"])
                       if kind == "event" and msg.get("event") == "JOB_STATUS_CHANGE" else None)
    for command, job in (("snapshot-save", "s1"), ("snapshot-load", "l1"), ("snapshot-delete", "d1")):
        args = {"job-id": job, "tag": "qmigtui-test", "devices": ["disk0"]}
        if command != "snapshot-delete":
            args["vmstate"] = "disk0"
        await tools.run("source", command, args)
        final = await tools.follow_job("source", job)
        assert final["status"] == "concluded" and not final.get("error"), final
    nodes = await rig.source.execute("query-named-block-nodes")
    disk = next(n for n in nodes if n.get("node-name") == "disk0")
    assert not disk["image"].get("snapshots")  # deleted again
    assert "concluded" in seen


async def type_in(app, pilot, line: str) -> None:
    """A whole line into the console at once, then Enter (key by key, a line took seconds on a
    busy lab; the completion test types its own keys)."""
    app.query_one("#console-input").value = line
    await pilot.press("enter")


@pytest.mark.once  # the console's own checks (the schema it completes from is tried below)
async def test_console_completes_from_the_schema_and_refuses_a_mistyped_argument(lab_app):
    async with lab_app() as (app, pilot, backend):
        sent: list[str] = []
        backend.watcher.session("source").hub.add_tap(
            lambda kind, msg: sent.append(msg["execute"]) if kind == "command"
            and not is_query(msg["execute"]) else None)
        await pilot.press("7")
        console = app.query_one(ConsolePane)
        box = console.query_one("#console-input")
        await pilot.press(*"query-migrate-par")
        await wait_for(lambda: box._suggestion == "query-migrate-parameters", 5, "completion")
        await pilot.press("right", "enter")
        def logged() -> str:
            return " ".join(line.text for line in console.log_widget.lines).replace("  ", " ")
        await wait_for(lambda: "downtime-limit" in logged(), 10, "the reply")
        await type_in(app, pilot, "migrate-set-parameters downtme-limit=500")
        await wait_for(lambda: "did you mean" in logged() and "not sent" in logged(), 5, "refused")
        assert "migrate-set-parameters" not in sent
        await type_in(app, pilot, "migrate-set-parameters downtime-limit=500")
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "it asks first")
        assert '{"execute": "migrate-set-parameters", "arguments": {"downtime-limit": 500}}' \
            in app.screen.detail and "migrate-set-parameters" not in sent
        await pilot.press("y")
        await wait_for(lambda: "migrate-set-parameters" in sent, 10, "sent when right and confirmed")
        await pilot.press("up")
        assert box.value == "migrate-set-parameters downtime-limit=500"


@pytest.mark.once  # what the console asks before sending
async def test_console_asks_before_hmp_and_exec_and_read_only_lets_only_info_through(lab_app, tmp_path):
    marker = tmp_path / "ran"
    async with lab_app() as (app, pilot, backend):
        sent: list[dict] = []
        backend.watcher.session("source").hub.add_tap(
            lambda kind, msg: sent.append(msg) if kind == "command"
            and msg["execute"] in ("human-monitor-command", "migrate") else None)
        await pilot.press("7")
        await type_in(app, pilot, "human-monitor-command command-line=stop")
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "HMP asks")
        await pilot.press("n")
        await type_in(app, pilot, f"migrate uri='exec:touch {marker}'")
        await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 5, "exec: asks")
        assert f"touch {marker}" in app.screen.question and "QEMU will run" in app.screen.question
        await pilot.press("n")
        await pilot.pause(0.5)
        assert not sent and not marker.exists()
        assert (await backend.watcher.session("source").execute("query-status"))["status"] == "running"
    async with lab_app(read_only=True) as (app, pilot, backend):
        src = backend.watcher.session("source")
        with pytest.raises(ReadOnlyRefused):
            await src.execute("human-monitor-command", {"command-line": "stop"})
        shown = await src.execute("human-monitor-command", {"command-line": "info migrate"})
        assert isinstance(shown, str)


async def test_tools_pane_form_and_live_result(lab_app):
    async with lab_app() as (app, pilot, _backend):
        await pilot.press("6")
        pane = app.query_one(ToolsPane)
        await wait_for(lambda: pane.get_cell("query-migrate-parameters", "source") == "yes", 10, "schema")
        source = app.snapshot.source  # QEMU 7.2 has not got it; 10.0 has, deprecated
        has_threads = "query-migrationthreads" in source.supported_commands
        assert pane.get_cell("query-migrationthreads", "source") == ("yes" if has_threads else "-")
        deprecated = "deprecated" in source.command_features.get("query-migrationthreads", ())
        assert ("deprecated" in pane.get_cell("query-migrationthreads", "flags")) == deprecated
        pane.move_cursor(row=pane.get_row_index("query-migrate-parameters"))
        await pilot.press("enter")
        await wait_for(lambda: app.screen.__class__.__name__ == "CommandForm", 5, "form")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ResultView), 10, "result")
        await wait_for(lambda: app.screen.refreshes >= 1, 5, "asked again")
        assert app.screen.value["downtime-limit"] == 300
        await pilot.press("escape")
