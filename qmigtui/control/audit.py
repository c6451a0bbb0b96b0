"""The audit log: every mutating command the app sent, its arguments and QEMU's answer.

One JSON line per command, appended and flushed at once, whether or not a
recording is running.  The default file lives in the user's state directory.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from pathlib import Path
from typing import Any

from platformdirs import user_state_path


def default_path() -> Path:
    return user_state_path("qmigtui") / "audit.log"


class AuditLog:
    """Append-only; a write that fails is reported once in ``error`` and never stops the app."""

    def __init__(self, path: Path | str | None = None, endpoints: dict[str, str] | None = None):
        self.path = Path(path) if path is not None else default_path()
        self.endpoints = endpoints or {}
        self.error: str | None = None
        self.lines = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.open("a").close()
        except OSError as e:
            raise OSError(f"cannot write the audit log {self.path}: {e.strerror or e}") from None
        try:
            self._user = getpass.getuser()
        except (KeyError, OSError):
            self._user = str(os.getuid())

    def __call__(self, side: str, command: str, args: dict[str, Any] | None, answer: str) -> None:
        line = json.dumps({
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "unix": round(time.time(), 3),
            "user": self._user, "pid": os.getpid(), "side": side,
            "endpoint": self.endpoints.get(side, ""), "command": command,
            "arguments": args or {}, "answer": answer}, separators=(",", ":"), default=str)
        try:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
            self.lines += 1
        except OSError as e:
            self.error = f"audit log {self.path}: {e.strerror or e}"


def read(path: Path | str) -> list[dict[str, Any]]:
    """The entries of an audit log (lines that are not JSON are skipped)."""
    out = []
    for text in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out
