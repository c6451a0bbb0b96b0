"""``qmigtui autopilot`` as an operator runs it, on two QEMUs that are not the lab: it starts
the migration, prints a line per decision, records them, and exits 0 when it completed; bad
input is one line and exit 2."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from qmigtui.lab.pair import LabConfig
from qmigtui.record.format import Reader
from tests.plain_pair import free_port, plain_pair

CONVERGES = LabConfig(mem_mib=64, working_set_mib=8, dirty_rate_mib_s=4, relay=False)


@pytest.mark.once  # the command's own behaviour
async def test_the_autopilot_starts_steers_records_and_exits_0_on_completion(need_qemu, tmp_path):
    async with plain_pair(CONVERGES) as lab:
        record, audit = tmp_path / "run.jsonl", tmp_path / "audit.jsonl"
        argv = [sys.executable, "-m", "qmigtui", "autopilot", lab.source_socket,
                "--dest", lab.destination_socket, "--uri", f"tcp:127.0.0.1:{free_port()}",
                "--policy", "ovirt", "--record", str(record), "--audit-log", str(audit)]
        done = await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True,
                                       timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("policy ovirt: max_downtime_ms=500.0")
    assert any("set-parameter downtime-limit=100" in line and "-> ok" in line for line in lines)
    assert lines[-1].split()[-1] == "completed" and not any("stand-down" in x for x in lines)
    decisions = [e.msg for e in Reader(record).entries() if e.kind == "decision"]
    assert decisions and decisions[0]["act"] in ("wait", "set-parameter")
    assert any(d["target"] == "downtime-limit" and d["outcome"] == "ok" for d in decisions)
    recorded = [e.msg for e in Reader(record).entries() if e.kind == "sent"]  # as audited
    assert ("migrate-set-parameters", "autopilot", "ok") in {
        (m["command"], m["by"], m["answer"]) for m in recorded}, recorded
    sent = [json.loads(x) for x in audit.read_text().splitlines() if '"command"' in x]
    steering = {e["by"] for e in sent if e["command"] != "calc-dirty-rate"}
    assert steering == {"autopilot"}, sent  # it started the migration too
    assert {e["by"] for e in sent if e["command"] == "calc-dirty-rate"} <= {"measuring"}


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    for args, words in ((["/nonexistent.sock", "--policy", "fastest"], "no such policy 'fastest'"),
                        ([str(tmp_path / "none.sock")], "no such socket")):
        done = subprocess.run([sys.executable, "-m", "qmigtui", "autopilot", *args, "--no-audit"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr
