"""--help of every command works, and every option it lists is in the README."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qmigtui import __version__
from qmigtui.cli import main as cli
from qmigtui.cli import parsers
from qmigtui.cli.autopilot import autopilot_parser
from qmigtui.cli.exporter import exporter_parser
from qmigtui.cli.fleet import fleet_parser
from qmigtui.cli.report import report_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
PARSERS = {"": parsers.monitor_parser, "lab": parsers.lab_parser, "status": parsers.status_parser,
           "replay": parsers.replay_parser, "export": parsers.export_parser, "serve": parsers.serve_parser,
           "fleet": fleet_parser, "autopilot": autopilot_parser, "report": report_parser,
           "exporter": exporter_parser}


def test_every_command_has_a_parser():
    assert set(PARSERS) - {""} == set(cli.SUBCOMMANDS)


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_help_runs_and_every_option_is_in_the_readme(command):
    argv = [sys.executable, "-m", "qmigtui", *([command] if command else []), "--help"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "usage: qmigtui" in out.stdout
    for action in PARSERS[command]()._actions:
        for option in action.option_strings:
            if option.startswith("--") and option not in ("--help", "--version"):
                assert option in README, f"qmigtui {command} {option} is not in the README"
    if command:
        assert f"qmigtui {command}" in README


def test_version():
    out = subprocess.run([sys.executable, "-m", "qmigtui", "--version"], capture_output=True, text=True)
    assert out.stdout.strip() == f"qmigtui {__version__}"
