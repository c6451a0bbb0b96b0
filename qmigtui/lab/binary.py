"""The QEMU binary a lab starts, and what it offers (found by asking it, never by version)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

QEMU_ENV = "QMIGTUI_QEMU"  # the QEMU binary the lab (and so the tests) start


def default_qemu() -> str:
    """``$QMIGTUI_QEMU`` when set (another QEMU than the system's), else qemu-system-x86_64."""
    return os.environ.get(QEMU_ENV) or "qemu-system-x86_64"


def qemu_available(binary: str | None = None) -> bool:
    return shutil.which(binary or default_qemu()) is not None


@functools.cache
def aux_ram_share(binary: str) -> bool:
    """Whether this QEMU's pc machine has the aux-ram-share option (what cpr modes need)."""
    try:
        out = subprocess.run([binary, "-machine", "pc,help"], capture_output=True, text=True,
                             timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "aux-ram-share" in out


def firmware_dirs(binary: str) -> list[str]:
    """``-L`` directories for a QEMU unpacked outside /usr (PREFIX/bin/qemu-…): its own
    PREFIX/share/qemu and PREFIX/share/seabios, which it would not look in by itself."""
    found = shutil.which(binary)
    if found is None:
        return []
    prefix = Path(found).resolve().parent.parent
    if prefix == Path("/usr"):
        return []
    return [str(d) for d in (prefix / "share" / "qemu", prefix / "share" / "seabios") if d.is_dir()]
