"""What a policy would have decided on a recorded migration: decisions only, nothing sent."""

from __future__ import annotations

import itertools
import subprocess
import sys

from qmigtui.record.replay import EXAMPLE

RECORDING = EXAMPLE.with_name("auto-converge-max.jsonl.gz")


def _replay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qmigtui", "replay", str(RECORDING), *args],
                          capture_output=True, text=True, timeout=120)


def test_a_policy_replayed_on_a_recording_decides_and_sends_nothing():
    done = _replay("--headless", "--speed", "100", "--autopilot", "nova")
    assert done.returncode == 0, done.stderr
    decisions = [line.split(None, 2)[2] for line in done.stdout.splitlines() if " nova " in line]
    assert decisions[0].startswith("wait") and "not-running" in decisions[0]
    steered = [d for d in decisions if d.startswith("set-parameter downtime-limit=")]
    assert steered and all(d.endswith("-> dry run: not sent") for d in steered)
    assert "ended" in decisions[-1]


def test_a_bad_policy_or_no_headless_is_one_line():
    for args, words in ((("--headless", "--autopilot", "fastest"), "no such policy 'fastest'"),
                        (("--autopilot", "nova"), "goes with --headless")):
        done = _replay(*args)
        assert done.returncode == 2 and words in done.stderr and done.stderr.count("\n") == 1


def test_a_wait_is_said_once_until_its_reason_changes():
    done = _replay("--headless", "--speed", "100", "--autopilot", "qmigtui")
    assert done.returncode == 0, done.stderr
    reasons = [line.split()[3] for line in done.stdout.splitlines() if " qmigtui " in line
               and line.split()[2] == "wait"]
    assert "on-track" in reasons and all(a != b for a, b in itertools.pairwise(reasons)), reasons
