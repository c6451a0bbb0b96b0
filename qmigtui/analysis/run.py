"""The samples of one migration as plain columns, and where its passes start."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from qmigtui.analysis.history import HistoryView

WINDOW_S = 5.0  # bandwidth is measured over this much of the latest history
PAGE = 4096.0
MiB = 1 << 20
MIN_BANDWIDTH = 1024.0  # bytes/s under which nothing is really moving
FINISH_S = 0.4  # seconds from the last pass to "completed": device state, the last syncs


def round_up(value: float, step: float) -> int:
    return int(math.ceil(value / step) * step)


def _finite(v: float) -> bool:
    return not math.isnan(v)


@dataclass(frozen=True)
class PassStart:
    """The first sample of a precopy pass (a new dirty-bitmap sync)."""

    index: int  # into the Run's columns
    sync: int  # QEMU's dirty-sync-count
    t: float  # estimated time of the sync (monotonic seconds)
    remaining: float  # bytes left at the sync (estimated from the sample)
    dirty_rate: float  # bytes/s QEMU reported with it (over the pass that ended)


LAST = 1800  # samples a forecast looks at (30 min at the default interval)


class Run:
    """Columns of the current migration: samples after the last counter reset only."""

    def __init__(self, history: HistoryView, last: int | None = LAST):
        cols = {name: history.series(name, last) for name in (
            "t", "wall", "transferred", "remaining", "total", "dirty_pages_rate", "page_size",
            "dirty_sync_count", "throttle", "postcopy_requests", "postcopy_blocktime",
            "expected_downtime", "mbps", "duplicate", "normal")}
        statuses = history.statuses(last)
        start = 0  # counters that go back mean QEMU started over (NaN compares False)
        for i, (before, now) in enumerate(itertools.pairwise(cols["transferred"]), 1):
            if now < before:
                start = i
        self.cols = {k: v[start:] for k, v in cols.items()} if start else cols
        self.statuses = statuses[start:]
        sync = [v for v in self.cols["dirty_sync_count"] if v == v]  # not NaN
        # newer QEMUs (11.1 seen) sync many times between two polls while a precopy cannot
        # converge: the count no longer marks whole passes (see _coalesce)
        self.frequent_syncs = any(b - a > 1 for a, b in itertools.pairwise(sync))

    def __len__(self) -> int:
        return len(self.statuses)

    def col(self, name: str) -> list[float]:
        return self.cols[name]

    def last(self, name: str) -> float:
        values = self.cols[name]
        return values[-1] if values else math.nan

    def bandwidth(self, end: int | None = None, window: float = WINDOW_S) -> tuple[float, float, float]:
        """Bytes/s sent over the window ending at sample ``end``: (mean, low, high).

        Low and high are the slowest and fastest sample-to-sample rates inside it.
        """
        t, tx = self.cols["t"], self.cols["transferred"]
        end = len(t) - 1 if end is None else end
        if end < 1:
            return math.nan, math.nan, math.nan
        first = end
        while first > 0 and t[end] - t[first - 1] <= window:
            first -= 1
        while first < end and not _finite(tx[first]):  # setup samples carry no ram stats yet
            first += 1
        if first >= end:
            return math.nan, math.nan, math.nan
        steps = [(tx[k] - tx[k - 1]) / (t[k] - t[k - 1]) for k in range(first + 1, end + 1)
                 if t[k] > t[k - 1] and _finite(tx[k]) and _finite(tx[k - 1])]
        dt = t[end] - t[first]
        if not steps or dt <= 0 or not (_finite(tx[end]) and _finite(tx[first])):
            return math.nan, math.nan, math.nan
        mean = max(0.0, (tx[end] - tx[first]) / dt)
        return mean, max(0.0, min(steps)), max(steps)

    def zero_share(self, first: int) -> float:
        """The share of zero pages among the pages QEMU went through since sample ``first``
        (they cost almost nothing to send); NaN before any."""
        dup, normal = self.cols["duplicate"], self.cols["normal"]
        if not dup or first >= len(dup) - 1:
            return math.nan
        zeros, whole = dup[-1] - dup[first], normal[-1] - normal[first]
        if not (_finite(zeros) and _finite(whole)) or zeros + whole <= 0:
            return math.nan
        return max(0.0, zeros) / (max(0.0, zeros) + max(0.0, whole))

    def span(self) -> float:
        """Seconds covered by samples that carry RAM counters."""
        t, tx = self.cols["t"], self.cols["transferred"]
        first = next((k for k in range(len(t)) if _finite(tx[k])), None)
        return t[-1] - t[first] if first is not None else 0.0

    def dirty_rate(self, index: int) -> float:
        pages = self.cols["dirty_pages_rate"][index]
        size = self.cols["page_size"][index]
        return pages * (size if _finite(size) and size > 0 else PAGE)

    def pass_starts(self, pass_walls: Sequence[float] = ()) -> list[PassStart]:
        """Samples where dirty-sync-count went up.

        With the wall times of MIGRATION_PASS events the sync time is known and the
        size at the sync is the sample's remaining plus what was sent since; without
        them the sync is taken halfway from the previous sample.
        """
        t, wall = self.cols["t"], self.cols["wall"]
        sync, rem, tx = self.cols["dirty_sync_count"], self.cols["remaining"], self.cols["transferred"]
        out: list[PassStart] = []
        prev = math.nan
        for i, s in enumerate(sync):  # a loop over every sample: NaN tested inline (x != x)
            if s != s:
                continue
            if s <= prev:  # no new pass (False while prev is NaN: the first count starts one)
                prev = s
                continue
            at, size = t[i], rem[i]
            if i > 0 and out:
                event = next((w for w in reversed(pass_walls) if wall[i - 1] < w <= wall[i]), None)
                if event is None:
                    at = (t[i - 1] + t[i]) / 2
                else:
                    lag = wall[i] - event
                    at = t[i] - lag
                    step = (tx[i] - tx[i - 1]) / (t[i] - t[i - 1]) if t[i] > t[i - 1] else 0.0
                    size = rem[i] + max(0.0, step) * lag if _finite(step) else rem[i]
            out.append(PassStart(i, int(s), at, size, self.dirty_rate(i)))
            prev = s
        return _coalesce(out) if self.frequent_syncs else out


MIN_PASS_S = 1.0  # syncs closer than this, where QEMU syncs many times between two polls, are one pass


def _coalesce(starts: list[PassStart]) -> list[PassStart]:
    """Newer QEMUs (11.1 seen) sync the dirty bitmap many times a second while a precopy
    cannot converge (about ten syncs a second at 2 MiB/s): the count no longer marks whole
    passes over guest RAM. Syncs less than MIN_PASS_S apart are then taken as one pass (the
    first of them); QEMU's dirty-pages-rate, worked out over a second or more, holds."""
    kept = starts[:1]
    for start in starts[1:]:
        if start.t - kept[-1].t >= MIN_PASS_S:
            kept.append(start)
    return kept
