"""The recording file: JSON Lines, a header then one line per QMP message or state change.

Header (line 1)::

    {"qmigtui-recording": 1, "qmigtui": "0.1.0", "started": <unix s>,
     "sides": {"source": {"endpoint": "...", "qemu": "7.2.22", "schema": "<digest>"}, ...}}

Then, in the order they happened::

    {"t": <monotonic s>, "wall": <unix s>, "side": "source", "kind": "command", "msg": {...}}

``kind`` is greeting, command, response, event (the QMP message as sent or
received) or state (``msg``: ``{"state": "gone", "reason": "..."}``).  Files may
be gzip-compressed.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from qmigtui.model.text import clean_tree

FORMAT = 1
MAGIC = "qmigtui-recording"
# decision: an autopilot's; sent: a command that changes a VM as audited, with who sent it
KINDS = ("greeting", "command", "response", "event", "state", "decision", "sent")
MAX_LINE = 16 << 20  # characters of one recorded message (a query-qmp-schema answer is ~0.5 MiB)


class RecordingError(Exception):
    """A file that cannot be replayed; ``str()`` is one line naming the file and line."""


@dataclass(frozen=True)
class Entry:
    """One recorded message."""

    line: int
    t: float
    wall: float
    side: str
    kind: str
    msg: dict[str, Any]


class _ByteLines(Protocol):
    def readline(self, limit: int = -1, /) -> bytes: ...
    def close(self) -> None: ...


class Lines:
    """A recording's lines as text, read as bytes: a line is cut at ``limit`` bytes before
    anything is decoded (a text stream's readline may hold far more than its limit while it
    looks for the end of a line that never comes: a gigabyte of NULs)."""

    def __init__(self, raw: _ByteLines):
        self._raw = raw

    def readline(self, limit: int = -1) -> str:
        return self._raw.readline(limit).decode("utf-8", errors="replace")

    def __enter__(self) -> Lines:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._raw.close()


def open_text(path: Path) -> Lines:
    """Open a recording for reading, gzip or plain."""
    try:
        with path.open("rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
        return Lines(gzip.open(path, "rb") if gz else path.open("rb"))
    except OSError as e:
        raise RecordingError(f"{path}: {e.strerror or e}") from None


def check_header(path: Path, text: str) -> dict[str, Any]:
    where = f"{path}:1"
    try:
        header = json.loads(text)
    except json.JSONDecodeError:
        raise RecordingError(f"{where}: not a qmigtui recording (the first line is not JSON)") from None
    if not isinstance(header, dict) or MAGIC not in header:
        raise RecordingError(f"{where}: not a qmigtui recording (no '{MAGIC}' header)")
    version = header[MAGIC]
    if version != FORMAT:
        raise RecordingError(f"{where}: recording format {version!r}; this qmigtui reads format {FORMAT}")
    sides = header.get("sides")
    if not isinstance(sides, dict) or not sides:
        raise RecordingError(f"{where}: the header names no sides")
    for name, side in sides.items():
        if not isinstance(side, dict):
            raise RecordingError(f"{where}: side {name!r} in the header is not an object")
        for key in ("endpoint", "qemu", "schema"):
            if key in side and not isinstance(side[key], str):
                raise RecordingError(f"{where}: side {name!r}'s {key} is not text")
    if "started" in header and (isinstance(header["started"], bool)
                                or not isinstance(header["started"], (int, float))):
        raise RecordingError(f"{where}: 'started' in the header is not a time")
    return header


class Reader:
    """Streams the entries of a recording with bounded memory; ``warning`` is set when its end
    was cut short (a recorder killed mid-line, a compressed file cut off)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.warning: str | None = None
        try:
            with open_text(self.path) as f:
                first = f.readline(MAX_LINE)
        except (OSError, EOFError, zlib.error) as e:
            raise RecordingError(f"{self.path}: cannot be read ({_why(e)})") from None
        if not first.strip():
            raise RecordingError(f"{self.path}:1: empty; not a qmigtui recording")
        if not first.endswith("\n"):
            raise RecordingError(f"{self.path}:1: the header is cut short or too long; not a "
                                 "complete recording")
        self.header: dict[str, Any] = clean_tree(check_header(self.path, first))
        self.sides: dict[str, dict[str, Any]] = self.header["sides"]

    def entries(self) -> Iterator[Entry]:
        """Every entry in order; a line cut short at the very end (a killed recorder) or a
        compressed stream cut off ends the stream with ``warning`` set; anything else
        malformed, or a line longer than MAX_LINE, raises RecordingError."""
        with open_text(self.path) as f:
            number = 1
            try:
                f.readline(MAX_LINE)
                while text := f.readline(MAX_LINE):
                    number += 1
                    if not text.endswith("\n") and len(text.encode()) >= MAX_LINE:
                        raise RecordingError(f"{self.path}:{number}: a line longer than "
                                             f"{MAX_LINE // (1 << 20)} MiB; not a recording's")
                    if not text.strip() or MAGIC in text[:32]:
                        continue  # a blank line, or the header of a recording appended to it
                    try:
                        entry = self._parse(number, text)
                    except RecordingError:
                        if text.endswith("\n"):
                            raise
                        self._cut_short(number)
                        return
                    yield entry
            except (EOFError, zlib.error, OSError) as e:  # gzip cut off, or a bad block
                self._cut_short(number, _why(e))

    def require_messages(self) -> None:
        """RecordingError when nothing follows the header (there is nothing to replay)."""
        if next(iter(self.entries()), None) is None:
            raise RecordingError(self.warning or f"{self.path}: no messages after the header")

    def _cut_short(self, number: int, why: str = "recording interrupted") -> None:
        self.warning = (f"{self.path}:{number}: last line cut short ({why}); replayed up to line "
                        f"{number - 1}")

    def _parse(self, number: int, text: str) -> Entry:
        where = f"{self.path}:{number}"
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as e:
            raise RecordingError(f"{where}: not JSON ({e.msg})") from None
        if not isinstance(raw, dict):
            raise RecordingError(f"{where}: not a recorded message")
        t, wall, side, kind, msg = (raw.get(k) for k in ("t", "wall", "side", "kind", "msg"))
        if not isinstance(t, (int, float)) or not isinstance(wall, (int, float)):
            raise RecordingError(f"{where}: no time stamps")
        if side not in self.sides:
            raise RecordingError(f"{where}: side {side!r} is not in the header")
        if kind not in KINDS or not isinstance(msg, dict):
            raise RecordingError(f"{where}: unknown kind {kind!r}")
        return Entry(number, float(t), float(wall), str(side), str(kind), clean_tree(msg))


def _why(error: BaseException) -> str:
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


def dumps(obj: Any) -> str:
    """One compact JSON line (NaN and other non-JSON values cannot appear in QMP)."""
    return json.dumps(obj, separators=(",", ":"), default=str)


def last_time(path: Path | str) -> float | None:
    """The time stamp of the last whole line of a recording (None when none can be read): what
    the replay's clock runs up to.  Reads the file once without parsing each line."""
    last = ""
    try:
        with open_text(Path(path)) as f:
            f.readline(MAX_LINE)
            while text := f.readline(MAX_LINE):
                if text.endswith("\n") and text.strip():
                    last = text
    except (RecordingError, EOFError, zlib.error, OSError):
        pass
    try:
        t = json.loads(last).get("t") if last else None
    except (json.JSONDecodeError, AttributeError):
        return None
    return float(t) if isinstance(t, (int, float)) else None


def status_events(path: Path | str, from_line: int = 0) -> Iterator[tuple[int, float, str, str]]:
    """(line, t, side, status) of each MIGRATION event at or after ``from_line``, read without
    parsing the other lines: where a replay's next state change is."""
    try:
        with open_text(Path(path)) as f:
            number = 0
            while text := f.readline(MAX_LINE):
                number += 1
                if number < max(from_line, 2) or '"MIGRATION"' not in text:
                    continue
                try:
                    raw = json.loads(text)
                    msg = raw["msg"]
                    if raw["kind"] != "event" or msg.get("event") != "MIGRATION":
                        continue
                    data = msg.get("data")
                    status = data.get("status") if isinstance(data, dict) else None
                    yield number, float(raw["t"]), str(raw["side"]), str(status)[:64]
                except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                    continue
    except (RecordingError, EOFError, zlib.error, OSError):
        return
