"""What outlives a migration for the exporter: migrations counted by outcome, each finished
one's duration, downtime and setup time held for a while (so a migration shorter than the
scrape interval is never missed), and the autopilot's acts counted by act and reason.
Fed from the event loop, read by the scrape's thread: one lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from qmigtui.watch.snapshot import Snapshot

HOLD_S = 3600.0  # how long a finished migration's numbers stay exported
OUTCOMES = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class Finished:
    vm: str
    outcome: str
    at: float  # unix time it was seen over
    duration_s: float | None
    downtime_s: float | None
    setup_s: float | None


class Ledger:
    def __init__(self, hold_s: float = HOLD_S, clock: Callable[[], float] = time.time):
        self.hold_s = hold_s
        self._now = clock
        self._lock = threading.Lock()
        self._last: dict[str, str] = {}  # vm -> the source's status last seen
        self._outcomes: dict[tuple[str, str], int] = {}
        self._finished: dict[str, Finished] = {}  # vm -> its last finished migration
        self._acts: dict[tuple[str, str, str], int] = {}  # (vm, act, reason) -> count

    def observe(self, vm: str, snap: Snapshot) -> None:
        """A new snapshot of a VM: a migration seen running and now over is counted and held."""
        src = snap.source
        status = str(src.status)
        with self._lock:
            before = self._last.get(vm)
            self._last[vm] = status
            if before is None or not src.status.ended or before == status:
                return
            if before in OUTCOMES and status in OUTCOMES:
                return  # an ended migration read again
            key = (vm, status)
            self._outcomes[key] = self._outcomes.get(key, 0) + 1
            info = src.info
            num = info.number if info is not None else (lambda _k: None)
            ms = lambda v: v / 1000 if v is not None else None  # noqa: E731
            self._finished[vm] = Finished(vm, status, self._now(), ms(num("total-time")),
                                          ms(num("downtime")), ms(num("setup-time")))

    def acted(self, vm: str, act: str, reason: str) -> None:
        """An act of the autopilot (not a wait)."""
        with self._lock:
            key = (vm, act, reason)
            self._acts[key] = self._acts.get(key, 0) + 1

    def families(self) -> Iterator[Metric]:
        now = self._now()
        with self._lock:
            for vm in [vm for vm, f in self._finished.items() if now - f.at > self.hold_s]:
                del self._finished[vm]  # a VM that is gone leaves after the hold
            outcomes = dict(self._outcomes)
            finished = list(self._finished.values())
            acts = dict(self._acts)
        total = CounterMetricFamily("qmigtui_migrations", "Migrations seen to their end, by "
                                    "outcome.", labels=("vm", "outcome"))
        for (vm, outcome), n in sorted(outcomes.items()):
            total.add_metric([vm, outcome], n)
        labels = ("vm", "outcome")
        duration = GaugeMetricFamily("qmigtui_migration_last_duration", "The last finished "
                                     "migration's length (held for a while).", labels=labels,
                                     unit="seconds")
        downtime = GaugeMetricFamily("qmigtui_migration_last_downtime", "The last finished "
                                     "migration's downtime.", labels=labels, unit="seconds")
        setup = GaugeMetricFamily("qmigtui_migration_last_setup", "The last finished migration's "
                                  "setup time.", labels=labels, unit="seconds")
        ended = GaugeMetricFamily("qmigtui_migration_last_end", "When the last migration was "
                                  "seen over (unix time).", labels=labels, unit="seconds")
        for f in finished:
            for family, value in ((duration, f.duration_s), (downtime, f.downtime_s),
                                  (setup, f.setup_s), (ended, f.at)):
                if value is not None:
                    family.add_metric([f.vm, f.outcome], value)
        actions = CounterMetricFamily("qmigtui_autopilot_actions", "Acts of the autopilot, by "
                                      "act and reason.", labels=("vm", "act", "reason"))
        for (vm, act, reason), n in sorted(acts.items()):
            actions.add_metric([vm, act, reason], n)
        yield from (total, duration, downtime, setup, ended, actions)
