"""The audit log: every mutating command the app sent, its arguments and QEMU's answer.

One JSON line per command, appended and flushed at once, whether or not a
recording is running; secrets are hidden (model.redact).  The default file lives
in the user's state directory; both are private (0700, 0600).  A line that cannot
be written is said at once (``error``) and, until a write works again, the
controller refuses to send anything that changes a VM.
"""

from __future__ import annotations

import getpass
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

from platformdirs import user_state_path

from qmigtui.model.actor import ACTOR
from qmigtui.model.redact import redact_args


def default_path() -> Path:
    return user_state_path("qmigtui") / "audit.log"


def private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) for our files only: a new folder is 0700."""
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path, 0o700)


def private_file(path: Path, flags: int) -> int:
    """Open (creating 0600) a file of ours; one that was readable by others is made private."""
    fd = os.open(path, flags | os.O_CLOEXEC, 0o600)
    info = os.fstat(fd)
    if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077 and info.st_uid == os.getuid():
        os.fchmod(fd, 0o600)  # only a regular file of ours; never a device such as /dev/full
    return fd


class AuditLog:
    """Append-only; ``error`` says why the last line could not be written (None once one is)."""

    def __init__(self, path: Path | str | None = None, endpoints: dict[str, str] | None = None):
        self.path = Path(path) if path is not None else default_path()
        self.endpoints = endpoints or {}
        self.error: str | None = None
        self.lines = 0
        try:
            private_dir(self.path.parent)
            os.close(private_file(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT))
        except OSError as e:
            raise OSError(f"cannot write the audit log {self.path}: {e.strerror or e}") from None
        try:
            self._user = getpass.getuser()
        except (KeyError, OSError):
            self._user = str(os.getuid())
        self._started = False

    @property
    def writable(self) -> bool:
        """Whether a line can be written now: the session's first line (who, when, where) is
        written or tried again here, so a full disk is known before anything is sent."""
        if not self._started or self.error is not None:
            self._started = self._append({"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                          "unix": round(time.time(), 3), "user": self._user,
                                          "pid": os.getpid(), "session": "start",
                                          "endpoints": self.endpoints})
        return self.error is None

    def __call__(self, side: str, command: str, args: dict[str, Any] | None, answer: str) -> None:
        self._append({
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "unix": round(time.time(), 3),
            "user": self._user, "pid": os.getpid(), "by": ACTOR.get(), "side": side,
            "endpoint": self.endpoints.get(side, ""), "command": command,
            "arguments": redact_args(command, args or {}), "answer": answer})

    def _append(self, entry: dict[str, Any]) -> bool:
        data = (json.dumps(entry, separators=(",", ":"), default=str) + "\n").encode()
        try:
            fd = private_file(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                written = os.write(fd, data)  # one write: a line is whole or not there
            finally:
                os.close(fd)
            if written != len(data):
                raise OSError(0, "short write (disk full?)")
        except OSError as e:
            self.error = f"audit log {self.path}: {e.strerror or e}"
            return False
        self.error = None
        if "command" in entry:
            self.lines += 1
        return True


def read(path: Path | str) -> list[dict[str, Any]]:
    """The command entries of an audit log (lines that are not JSON, and session lines, are
    skipped)."""
    out = []
    for text in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and "command" in entry:
            out.append(entry)
    return out
