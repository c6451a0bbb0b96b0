"""qmigtui: a terminal monitor and control desk for QEMU live migration."""

__version__ = "0.1.0"

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"  # bundled themes/ and examples/ (installed too)
