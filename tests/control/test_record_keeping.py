"""The record qmigtui keeps says what happened, privately and whole: against fake QMP peers
(test doubles, not QEMU) that answer late, change things behind our back, or a disk that is
full."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from qmigtui.control import audit, rules
from qmigtui.control.audit import AuditLog
from qmigtui.control.ops import Controller
from qmigtui.control.outcomes import ControlError, NoAnswer, NotAllowed, Refused
from qmigtui.control.tools import Tools
from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.qmp_session import QmpSession
from qmigtui.record.recorder import Recorder
from qmigtui.watch import watcher as watcher_module
from qmigtui.watch.watcher import Watcher
from tests.fakeqmp import FakeQmp, qemu_schema
from tests.helpers import wait_for


class Settable:
    """A fake QEMU whose parameters and capabilities can be set (late, if ``slow``)."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {"downtime-limit": 300, "max-bandwidth": 1 << 27}
        self.caps: dict[str, bool] = {"events": True, "xbzrle": False}
        self.slow: set[str] = set()  # commands applied at once but answered only much later
        self.refuse: dict[str, str] = {}  # command -> QEMU's desc
        self.sent: list[str] = []

    def __call__(self, cmd: str, args: dict[str, Any]) -> Any:
        self.sent.append(cmd)
        if cmd in self.refuse:
            return {"error": {"class": "GenericError", "desc": self.refuse[cmd]}}
        if cmd == "query-qmp-schema":
            return {"return": qemu_schema()}
        if cmd == "query-migrate":
            return {"return": {"status": "none"}}
        if cmd == "query-migrate-parameters":
            return {"return": dict(self.params)}
        if cmd == "query-migrate-capabilities":
            return {"return": [{"capability": k, "state": v} for k, v in self.caps.items()]}
        if cmd == "migrate-set-parameters":
            self.params.update(args)
        elif cmd == "migrate-set-capabilities":
            self.caps.update({c["capability"]: c["state"] for c in args["capabilities"]})
        return None if cmd in self.slow else {"return": {}}


@asynccontextmanager
async def watched(tmp_path: Path, qemu: Settable, timeout: float = 5.0,
                  log: AuditLog | None = None) -> AsyncIterator[Controller]:
    fake = await FakeQmp(str(tmp_path / "qmp.sock"), qemu).start()
    session = QmpSession(parse_endpoint(fake.path), "source", timeout=timeout)
    await session.connect()
    watcher = Watcher([session], interval=0.1)
    await watcher.start()
    controller = Controller(watcher, log)
    if log is not None:
        controller.guards.append(lambda: None if log.writable else log.error)
    try:
        await wait_for(lambda: watcher.snapshot.source.parameters is not None, 5, "first read")
        yield controller
    finally:
        await watcher.close()
        await fake.stop()


async def test_a_parameter_qemu_applied_after_a_timeout_is_audited_as_applied(tmp_path):
    qemu, log = Settable(), AuditLog(tmp_path / "audit.log")
    qemu.slow.add("migrate-set-parameters")
    async with watched(tmp_path, qemu, timeout=0.5, log=log) as controller:
        with pytest.raises(NoAnswer, match="no answer yet: it may have been applied") as raised:
            await controller.set_parameter("source", "downtime-limit", "700")
        assert (raised.value.side, raised.value.command) == ("source", "migrate-set-parameters")
        qemu.slow.clear()
        await wait_for(lambda: len(audit.read(log.path)) == 2, 10, "the outcome audited")
        first, second = audit.read(log.path)
        assert first["answer"].startswith("no answer yet")
        assert second["answer"] == "after the timeout: applied"
        await wait_for(lambda: controller.watcher.snapshot.source.parameters.get("downtime-limit") == 700,
                       5, "the pane's value read back")


async def test_a_refusal_is_typed_with_qemus_own_words_and_audited(tmp_path):
    qemu, log = Settable(), AuditLog(tmp_path / "audit.log")
    qemu.refuse["migrate-set-parameters"] = "Parameter 'downtime-limit' expects a sane value"
    async with watched(tmp_path, qemu, log=log) as controller:
        with pytest.raises(Refused) as raised:
            await controller.set_parameter("source", "downtime-limit", "700")
        assert raised.value.desc == "Parameter 'downtime-limit' expects a sane value"
        assert audit.read(log.path)[-1]["answer"] == f"error: {raised.value.desc}"


async def test_read_only_refuses_before_sending_in_one_wording(tmp_path):
    qemu = Settable()
    async with watched(tmp_path, qemu) as controller:
        controller.watcher.session("source").hub.read_only = True
        for change in (controller.set_parameter("source", "downtime-limit", "700"),
                       controller.set_capability("source", "xbzrle", True),
                       controller.set_dirty_limit(10)):
            with pytest.raises(NotAllowed, match=rules.READ_ONLY):
                await change
        assert not {"migrate-set-parameters", "migrate-set-capabilities"} & set(qemu.sent)


async def test_a_change_made_by_another_client_is_marked_and_ours_is_not(tmp_path, monkeypatch):
    monkeypatch.setattr(watcher_module, "CONFIG_EVERY", 0.3)
    qemu = Settable()
    async with watched(tmp_path, qemu) as controller:
        await controller.set_parameter("source", "max-bandwidth", "64M")
        qemu.params["downtime-limit"] = 900  # another client, behind our back
        qemu.caps["xbzrle"] = True
        state = controller.watcher.snapshot.source
        await wait_for(lambda: controller.watcher.snapshot.source.parameters.get("downtime-limit") == 900,
                       5, "read again without being asked")
        state = controller.watcher.snapshot.source
        assert {"downtime-limit", "xbzrle"} <= state.changed_elsewhere
        assert "max-bandwidth" not in state.changed_elsewhere


async def test_nothing_is_sent_while_the_audit_log_cannot_be_written(tmp_path):
    qemu = Settable()
    async with watched(tmp_path, qemu, log=AuditLog("/dev/full")) as controller:
        with pytest.raises(ControlError, match=r"No space left on device.*nothing sent"):
            await controller.set_parameter("source", "downtime-limit", "700")
        assert "migrate-set-parameters" not in qemu.sent
    async with watched(tmp_path, Settable()) as controller:  # opted out: no audit log at all
        await controller.set_parameter("source", "downtime-limit", "700")


async def test_audit_log_and_recording_are_private_and_hide_secrets(tmp_path):
    state = tmp_path / "state"
    log = AuditLog(state / "qmigtui" / "audit.log")
    recording = tmp_path / "rec.jsonl"
    recorder = Recorder(recording)
    qemu = Settable()
    fake = await FakeQmp(str(tmp_path / "qmp.sock"), qemu).start()
    session = QmpSession(parse_endpoint(fake.path), "source")
    recorder.attach(session)
    await session.connect()
    watcher = Watcher([session], interval=0.1)
    controller = Controller(watcher, log)
    try:
        await Tools(controller).run("source", "object-add",
                                    {"qom-type": "secret", "id": "s0", "data": "hunter2"})
        await controller.send("source", "human-monitor-command",
                              {"command-line": "object_add secret,id=s1,data=hunter3"})
    finally:
        await watcher.close()
        await fake.stop()
        recorder.close()
    for path in (log.path, recording):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        text = path.read_text()
        assert "hunter" not in text and "***" in text, path
    assert stat.S_IMODE(os.stat(log.path.parent).st_mode) == 0o700


def test_a_recording_is_never_overwritten_and_never_shared(tmp_path):
    path = tmp_path / "rec.jsonl"
    path.write_text("an earlier recording\n")
    with pytest.raises(OSError, match="it exists"):
        Recorder(path)
    assert path.read_text() == "an earlier recording\n"
    first = Recorder(path, append=True)
    with pytest.raises(OSError, match="another qmigtui is recording"):
        Recorder(path, append=True)
    first.close()
    Recorder(path, append=True).close()  # the lock went with the first


async def test_a_recording_on_a_full_disk_says_so(tmp_path):
    recorder = Recorder("/dev/full", append=True)
    qemu = Settable()
    fake = await FakeQmp(str(tmp_path / "qmp.sock"), qemu).start()
    session = QmpSession(parse_endpoint(fake.path), "source")
    recorder.attach(session)
    try:
        await session.connect()
        await session.execute("query-qmp-schema")
        await session.execute("query-migrate")
        recorder.close()
    finally:
        await session.close()
        await fake.stop()
    assert recorder.error is not None and "No space left" in recorder.error


def test_audit_lines_are_json_whole_lines(tmp_path):
    log = AuditLog(tmp_path / "a.log")
    log("source", "migrate", {"uri": "tcp:h:1"}, "ok")
    lines = (tmp_path / "a.log").read_text().splitlines()
    assert all(json.loads(line) for line in lines) and len(audit.read(tmp_path / "a.log")) == 1


async def test_the_app_says_at_once_that_the_audit_log_cannot_be_written_and_sends_nothing(tmp_path):
    from qmigtui.desk.opening import open_endpoints
    from qmigtui.ui.app import MigrationApp
    from qmigtui.ui.config_panes import ParametersPane
    qemu = Settable()
    fake = await FakeQmp(str(tmp_path / "qmp.sock"), qemu).start()
    app = MigrationApp(lambda: open_endpoints([("source", fake.path)], 0.2, False, audit="/dev/full"))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.snapshot is not None and app.snapshot.source.parameters, 10,
                           "connected")
            await pilot.pause(0.3)
            top = str(app.query_one("#topline").render())
            assert "audit log /dev/full" in top and "No space left" in top
            assert any("audit log" in text for _, text in app.notified)
            await pilot.press("4")
            params = app.query_one(ParametersPane)
            params.move_cursor(row=params.get_row_index("downtime-limit"))
            await pilot.press("enter")
            await wait_for(lambda: app.screen.__class__.__name__ == "EditParameter", 5, "editor")
            await pilot.press("ctrl+a", "ctrl+k", *"700", "enter")
            await pilot.pause(0.5)
            assert "migrate-set-parameters" not in qemu.sent
            assert any("nothing sent" in text for _, text in app.notified)
            await app.action_quit()
    finally:
        await fake.stop()
