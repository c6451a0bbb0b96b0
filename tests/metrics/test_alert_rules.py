"""The shipped alert rules pass ``promtool check rules`` and their own ``promtool test rules``
(a postcopy paused past a minute fires, a completed migration fires nothing, ...)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import require

RULES = Path(__file__).resolve().parents[2] / "prometheus"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    require(shutil.which("promtool") is not None, "promtool is not installed (apt-get install prometheus)")
    return subprocess.run(["promtool", *args], cwd=RULES, capture_output=True, text=True, timeout=60)


def test_the_rules_are_valid_and_pass_their_tests():
    checked = _promtool("check", "rules", "qmigtui-rules.yml")
    assert checked.returncode == 0 and "6 rules found" in checked.stdout, checked.stdout + checked.stderr
    tested = _promtool("test", "rules", "qmigtui-rules.test.yml")
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


def test_a_rule_that_fires_too_soon_fails_its_test(tmp_path):
    """The tests can fail: the paused-postcopy rule without its minute fires at 45 s."""
    rules = (RULES / "qmigtui-rules.yml").read_text()
    (tmp_path / "qmigtui-rules.yml").write_text(rules.replace("for: 1m", "for: 0m", 1))
    shutil.copy(RULES / "qmigtui-rules.test.yml", tmp_path)
    require(shutil.which("promtool") is not None, "promtool is not installed (apt-get install prometheus)")
    done = subprocess.run(["promtool", "test", "rules", "qmigtui-rules.test.yml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "MigrationPostcopyPaused" in done.stdout + done.stderr
