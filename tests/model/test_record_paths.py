"""Member paths are types: mypy checks every ``info.number("ram.remaining")`` against the
schema, and the generated Literal types are the ones the shipped schema gives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]


def test_the_generated_paths_are_current():
    out = subprocess.run([sys.executable, "scripts/gen_record_paths.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    assert out == (ROOT / "qmigtui" / "model" / "record_paths.py").read_text(), \
        "run: python scripts/gen_record_paths.py > qmigtui/model/record_paths.py"


def test_mypy_refuses_a_member_the_struct_does_not_have(tmp_path):
    snippet = tmp_path / "reads.py"
    snippet.write_text(
        "from qmigtui.model.records import parse_record\n"
        "info = parse_record('MigrationInfo', {})\n"
        "ok = info.number('ram.remaining')\n"
        "typo = info.number('ram.remaning')\n"
        "params = parse_record('MigrationParameters', {})\n"
        "wrong_struct = params.number('ram.total')\n")
    stdout, _stderr, status = api.run([str(snippet), "--cache-dir", str(tmp_path / "cache"),
                                       "--no-error-summary", "--follow-imports", "silent"])
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert status == 1
    assert [int(line.split(":")[1]) for line in errors] == [4, 6], stdout
