"""A fixed-capacity history of query-migrate samples per endpoint, with derived series.

Columns are ``array('d')`` rings, so memory is fixed by the capacity whatever
the run length (about 8 bytes per field per sample).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from qmigtui.model.records import Record

NAN = float("nan")

# Series kept per sample: name -> dotted path in MigrationInfo (None: filled by the sampler).
FIELDS: dict[str, str | None] = {
    "t": None,  # monotonic seconds
    "wall": None,  # unix seconds
    "transferred": "ram.transferred",
    "remaining": "ram.remaining",
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
}


@dataclass(frozen=True)
class Sample:
    """One query-migrate reply reduced to numbers (NaN where absent)."""

    values: dict[str, float]
    status: str

    @classmethod
    def from_info(cls, t: float, wall: float, info: Record) -> Sample:
        values = {"t": t, "wall": wall}
        for name, path in FIELDS.items():
            if path is not None:
                v = info.path(path)
                values[name] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else NAN
        return cls(values, info.status or "none")

    def __getitem__(self, name: str) -> float:
        return self.values.get(name, NAN)


class History:
    """The last ``capacity`` samples of one endpoint."""

    def __init__(self, capacity: int = 7200):
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.capacity = capacity
        self._cols = {name: array("d", [NAN]) * capacity for name in FIELDS}
        self._status: list[str] = [""] * capacity
        self._next = 0
        self._count = 0
        self.total_seen = 0

    def __len__(self) -> int:
        return self._count

    def append(self, sample: Sample) -> None:
        i = self._next
        for name, col in self._cols.items():
            col[i] = sample.values.get(name, NAN)
        self._status[i] = sample.status
        self._next = (i + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)
        self.total_seen += 1

    def clear(self) -> None:
        """Forget the samples (a new migration starts a new history)."""
        self._next = 0
        self._count = 0

    def _indices(self, last: int | None = None) -> Iterator[int]:
        count = self._count if not last else min(last, self._count)
        start = (self._next - count) % self.capacity
        for k in range(count):
            yield (start + k) % self.capacity

    def series(self, name: str, last: int | None = None) -> list[float]:
        """Values of one field, oldest first (optionally only the last N)."""
        col = self._cols[name]
        count = self._count if not last else min(last, self._count)
        start = (self._next - count) % self.capacity
        end = start + count
        if end <= self.capacity:
            return col[start:end].tolist()
        return col[start:].tolist() + col[:end - self.capacity].tolist()

    def statuses(self, last: int | None = None) -> list[str]:
        return [self._status[i] for i in self._indices(last)]

    def latest(self, name: str) -> float:
        if not self._count:
            return NAN
        return self._cols[name][(self._next - 1) % self.capacity]

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


def sample_from_reply(t: float, wall: float, info: Record | dict[str, Any]) -> Sample:
    """A sample from a parsed record (or a raw reply, parsed here)."""
    from qmigtui.model.records import parse_record
    record = info if isinstance(info, Record) else parse_record("MigrationInfo", info)
    return Sample.from_info(t, wall, record)
