"""An installed qmigtui (not an editable checkout) carries its themes and example recordings."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_every_bundled_theme_and_recording(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("qmigtui-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("themes", "examples"):
        for path in (ROOT / folder).iterdir():
            assert f"qmigtui/data/{folder}/{path.name}" in names, path.name
    assert "qmigtui/ui/app.tcss" in names and "qmigtui/lab/guest.S" in names


def test_the_python_it_asks_for_has_what_it_uses():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"  # tomllib, enum.StrEnum
