"""A fixed-capacity history of query-migrate samples per endpoint, with derived series.

Columns are ``array('d')`` chunks; full chunks are never written again, so a frozen
view of the history (for an immutable Snapshot) shares them instead of copying.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from qmigtui.model.record_paths import InfoPath
from qmigtui.model.records import InfoRecord, Record

NAN = float("nan")

# Series kept per sample: name -> dotted path in MigrationInfo (None: filled by the sampler;
# several: the first one present).
FIELDS: dict[str, InfoPath | tuple[InfoPath, ...] | None] = {
    "t": None,  # monotonic seconds
    "wall": None,  # unix seconds
    "transferred": "ram.transferred",
    "remaining": ("remaining", "ram.remaining"),  # 11.1+: RAM and device state, VFIO included
    "duplicate": "ram.duplicate",  # zero pages sent (a flag each, almost free)
    "normal": "ram.normal",  # whole pages sent
    "total": "ram.total",
    "dirty_pages_rate": "ram.dirty-pages-rate",
    "page_size": "ram.page-size",
    "mbps": "ram.mbps",
    "dirty_sync_count": "ram.dirty-sync-count",
    "postcopy_requests": "ram.postcopy-requests",
    "expected_downtime": "expected-downtime",
    "total_time": "total-time",
    "throttle": "cpu-throttle-percentage",
    "multifd_bytes": "ram.multifd-bytes",
    "xbzrle_cache_miss_rate": "xbzrle-cache.cache-miss-rate",
    "xbzrle_encoding_rate": "xbzrle-cache.encoding-rate",
    "xbzrle_overflow": "xbzrle-cache.overflow",
    "compression_rate": "compression.compression-rate",
    "vfio_transferred": "vfio.transferred",
    "postcopy_blocktime": "postcopy-blocktime",
    "precopy_bytes": "ram.precopy-bytes",
    "postcopy_bytes": "ram.postcopy-bytes",
    "postcopy_latency": "postcopy-latency",  # ns, 10.1+ with postcopy-blocktime
}

_PATHS = tuple((name, (path,) if isinstance(path, str) else path)
               for name, path in FIELDS.items() if path is not None)


@dataclass(frozen=True)
class Sample:
    """One query-migrate reply reduced to numbers (NaN where absent)."""

    values: dict[str, float]
    status: str

    @classmethod
    def from_info(cls, t: float, wall: float, info: InfoRecord) -> Sample:
        values = {"t": t, "wall": wall}
        number = info.number
        for name, paths in _PATHS:
            values[name] = NAN
            for path in paths:  # the first that QEMU reports
                if (v := number(path)) is not None:
                    values[name] = float(v)
                    break
        return cls(values, info.text("status") or "none")

    def __getitem__(self, name: str) -> float:
        return self.values.get(name, NAN)


CHUNK = 64  # samples per chunk: a full chunk never changes again, so views share it


class _Chunk:
    """Up to CHUNK samples, one array per field; frozen (never written) once full."""

    __slots__ = ("cols", "status")

    def __init__(self, cols: dict[str, array[float]], status: list[str]):
        self.cols = cols
        self.status = status

    @classmethod
    def empty(cls) -> _Chunk:
        return cls({name: array("d") for name in FIELDS}, [])

    def __len__(self) -> int:
        return len(self.status)


class HistoryView:
    """The samples of one endpoint at one moment, oldest first, with derived series.

    A view taken from a History (``History.view()``) never changes afterwards: it shares the
    History's chunks, the last one too (columns are only ever appended to, and a cleared
    History starts new ones), and reads the last one only up to the length it had then; so
    taking one costs nothing whatever the length.
    """

    def __init__(self, chunks: tuple[_Chunk, ...] = (), length: int = 0, total_seen: int = 0,
                 capacity: int = 0, open_len: int | None = None):
        self._frozen = chunks
        self._length = length
        self._open_len = open_len  # entries of the last chunk in this view (None: all it has)
        self.total_seen = total_seen
        self.capacity = capacity

    def _chunks(self) -> tuple[_Chunk, ...]:
        return self._frozen

    def __len__(self) -> int:
        return self._length

    def _tail(self, take: Callable[[_Chunk], Sequence[Any]], last: int | None) -> list[Any]:
        """The last ``last`` (default: all) entries of one column, across the chunks."""
        need = self._length if not last else min(last, self._length)
        parts: list[Sequence[Any]] = []
        size = self._open_len
        for chunk in reversed(self._chunks()):
            if need <= 0:
                break
            column = take(chunk)
            size = len(column) if size is None else size
            parts.append(column[max(0, size - need):size])
            need -= size
            size = None
        out: list[Any] = []
        for part in reversed(parts):
            out.extend(part)
        return out

    def series(self, name: str, last: int | None = None) -> list[float]:
        """Values of one field, oldest first (optionally only the last N)."""
        return self._tail(lambda c: c.cols[name], last)

    def statuses(self, last: int | None = None) -> list[str]:
        return self._tail(lambda c: c.status, last)

    def latest(self, name: str) -> float:
        chunks = self._chunks()
        if not self._length or not chunks:
            return NAN
        size = len(chunks[-1]) if self._open_len is None else self._open_len
        return chunks[-1].cols[name][size - 1] if size else chunks[-2].cols[name][-1]

    # -- derived -----------------------------------------------------------

    def rate(self, name: str, last: int | None = None) -> list[float]:
        """Per-second change of a cumulative counter (NaN where unknown or reset)."""
        t = self.series("t", last)
        v = self.series(name, last)
        out = [NAN]
        for k in range(1, len(t)):
            dt, dv = t[k] - t[k - 1], v[k] - v[k - 1]
            out.append(dv / dt if dt > 0 and dv >= 0 and not math.isnan(dv) else NAN)
        return out[-len(t):] if t else []

    def throughput(self, last: int | None = None) -> list[float]:
        """Bytes/s actually transferred, from the transferred counter."""
        return self.rate("transferred", last)

    def dirty_bytes_rate(self, last: int | None = None) -> list[float]:
        """Dirty bytes/s: dirty-pages-rate times page size."""
        pages = self.series("dirty_pages_rate", last)
        size = self.series("page_size", last)
        return [p * (s if not math.isnan(s) else 4096) for p, s in zip(pages, size, strict=True)]


class History(HistoryView):
    """The last ``capacity`` samples of one endpoint, growing as samples come.

    Memory is bounded by the capacity (plus one chunk) whatever the run length, about 8
    bytes per field per sample.
    """

    def __init__(self, capacity: int = 7200):
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        super().__init__(capacity=capacity)
        self._full: deque[_Chunk] = deque()
        self._open = _Chunk.empty()
        self._held = 0  # samples in the chunks (may pass the capacity by less than a chunk)

    def _chunks(self) -> tuple[_Chunk, ...]:
        return (*self._full, self._open)

    def append(self, sample: Sample) -> None:
        chunk = self._open
        for name, col in chunk.cols.items():
            col.append(sample.values.get(name, NAN))
        chunk.status.append(sample.status)
        self._held += 1
        self.total_seen += 1
        if len(chunk) == CHUNK:
            self._full.append(chunk)
            self._open = _Chunk.empty()
        while self._full and self._held - len(self._full[0]) >= self.capacity:
            self._held -= len(self._full.popleft())
        self._length = min(self._held, self.capacity)

    def clear(self) -> None:
        """Forget the samples (a new migration starts a new history); views keep theirs."""
        self._full = deque()
        self._open = _Chunk.empty()
        self._held = self._length = 0

    def view(self) -> HistoryView:
        """What this history holds now, frozen."""
        return HistoryView((*self._full, self._open), self._length, self.total_seen,
                           self.capacity, len(self._open))


def sample_from_reply(t: float, wall: float, info: Record | dict[str, Any]) -> Sample:
    """A sample from a parsed record (or a raw reply, parsed here)."""
    from qmigtui.model.records import parse_record
    record = info if isinstance(info, Record) else parse_record("MigrationInfo", info)
    return Sample.from_info(t, wall, record)
