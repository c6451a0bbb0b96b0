"""Write every QMP message of every session to a JSON Lines file, one flushed line at a time.

The header needs each side's QEMU version and schema digest, known only once
the greeting and the ``query-qmp-schema`` reply went by; lines are held in
memory until then (or until ``HEADER_WAIT`` seconds passed), then the header
and those lines are written, and from there every line is written and flushed
as it comes, so a crash or ``kill -9`` loses at most the line being written.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qmigtui import __version__
from qmigtui.model.actor import ACTOR
from qmigtui.model.redact import redact_args, redact_message
from qmigtui.qmp.schema import Schema
from qmigtui.qmp.session import ConnState, Session
from qmigtui.record.format import FORMAT, MAGIC, dumps

HEADER_WAIT = 10.0


def recording_target_problem(path: Path | str, append: bool) -> str | None:
    """Why a recording cannot go to ``path`` (checked before anything starts), or None."""
    target = Path(path)
    if target.is_symlink() and not target.exists():  # O_EXCL would find it only once running
        return f"cannot record to {target}: a symbolic link to nothing; name the file itself"
    if target.exists() and not append:
        return f"cannot record to {target}: it exists (--append adds to it)"
    if target.exists() and not os.access(target, os.W_OK):
        return f"cannot record to {target}: not writable"
    folder = target.parent if str(target.parent) else Path(".")
    if not target.exists() and not os.access(folder if folder.exists() else folder.parent, os.W_OK):
        return f"cannot record to {target}: cannot write in {folder}"
    return None


class Recorder:
    """``attach`` sessions before they connect; ``close`` when done (idempotent).

    The file is new (0600) unless ``append`` is given, and locked while recording: an
    existing recording is never cut short, and two apps never write into one file.  Secrets
    in the commands sent are hidden (model.redact).
    """

    def __init__(self, path: Path | str, append: bool = False):
        self.path = Path(path)
        self.lines = 0
        self.error: str | None = None
        self._fd: int | None = None
        self._header_written = False
        self._held: list[str] = []
        self._sides: dict[str, dict[str, Any]] = {}
        self._schema_ids: dict[str, str] = {}
        self._opened = time.monotonic()
        self._closed = False
        flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_APPEND if append else os.O_EXCL)
        try:  # fail now, with one line, rather than after a migration
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, flags, 0o600)
        except FileExistsError:
            raise OSError(f"cannot record to {self.path}: it exists (--append adds to it)") from None
        except OSError as e:
            raise OSError(f"cannot record to {self.path}: {e.strerror or e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OSError(f"cannot record to {self.path}: another qmigtui is recording "
                          "into it") from None
        self._fd = fd

    def attach(self, session: Session) -> None:
        name = session.name
        self._sides[name] = {"endpoint": session.traits.address, "qemu": "", "schema": ""}
        session.hub.add_tap(lambda kind, msg: self._message(name, kind, msg))
        session.hub.on_state(lambda state, reason: self._state(name, state, reason))

    # -- taps ---------------------------------------------------------------

    def _message(self, side: str, kind: str, msg: dict[str, Any]) -> None:
        info = self._sides[side]
        if kind == "greeting":
            v = msg.get("QMP", {}).get("version", {}).get("qemu", {})
            if isinstance(v, dict):
                info["qemu"] = ".".join(str(v.get(k, "?")) for k in ("major", "minor", "micro"))
        elif kind == "command" and msg.get("execute") == "query-qmp-schema":
            self._schema_ids[side] = str(msg.get("id"))
        if kind == "command":
            msg = redact_message(msg)
        elif kind == "response" and side in self._schema_ids and msg.get("id") == self._schema_ids[side]:
            del self._schema_ids[side]
            if isinstance(msg.get("return"), list):
                try:
                    info["schema"] = Schema.from_introspection(msg["return"]).digest()
                except (ValueError, TypeError, KeyError):
                    info["schema"] = "unreadable"
        self._write(side, kind, msg)

    def _state(self, side: str, state: ConnState, reason: str | None) -> None:
        self._write(side, "state", {"state": state.value, "reason": reason})

    def sent(self, side: str, command: str, args: dict[str, Any] | None, answer: str) -> None:
        """A command that changes a VM, as audited: who sent it (operator, autopilot) and
        QEMU's answer (an audit hook of the controller, called in the sender's context)."""
        if side in self._sides:
            self._write(side, "sent", {"command": command, "arguments": redact_args(command, args or {}),
                                       "answer": answer, "by": ACTOR.get()})

    def decision(self, msg: dict[str, Any]) -> None:
        """An autopilot's decision, with its reasons and numbers as data."""
        if self._sides:
            self._write(next(iter(self._sides)), "decision", msg)

    def _write(self, side: str, kind: str, msg: dict[str, Any]) -> None:
        if self._closed:
            return
        line = dumps({"t": time.monotonic(), "wall": time.time(), "side": side, "kind": kind,
                      "msg": msg})
        if not self._header_written:
            self._held.append(line)
            ready = all(i["schema"] for i in self._sides.values())
            if not ready and time.monotonic() - self._opened < HEADER_WAIT:
                return
            self._open()
            return
        self._emit(line)

    def _open(self) -> None:
        header = {MAGIC: FORMAT, "qmigtui": __version__, "started": time.time(), "sides": self._sides}
        self._header_written = True
        self._emit(dumps(header))
        held, self._held = self._held, []
        for line in held:
            self._emit(line)

    def _emit(self, line: str) -> None:
        if self._fd is None or self._closed:
            return
        data = (line + "\n").encode("utf-8")
        try:
            written = os.write(self._fd, data)  # one write: a line is whole, or cut only at the end
            if written != len(data):
                raise OSError(0, "short write (disk full?)")
            self.lines += 1
        except OSError as e:  # a full disk stops the recording, never the app
            self.error = f"recording {self.path} stopped: {e.strerror or e}"
            self._closed = True

    def close(self) -> None:
        """Write what is held (the header with what is known) and close the file."""
        if not self._closed and not self._header_written and (self._held or self._sides):
            self._open()
        self._closed = True
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # the lock goes with it


@contextlib.contextmanager
def closed_on_failure(recorder: Recorder | None) -> Iterator[None]:
    """Close the recording when what follows fails (it is the caller's once all went well)."""
    try:
        yield
    except BaseException:
        if recorder is not None:
            recorder.close()
        raise
