"""What qmigtui knows of one migration, as OpenMetrics families: names by the conventions
(units as suffixes), close to KubeVirt's where they mean the same, labelled with the VM, the
side and its endpoint (an address, never a secret). Plain functions of a Snapshot: a scrape
reads the last one, never a live QEMU."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric, StateSetMetricFamily
from prometheus_client.samples import Sample

from qmigtui.analysis.verdict import Verdict
from qmigtui.model.members import latency_buckets, remaining
from qmigtui.model.states import MEANING
from qmigtui.watch.snapshot import SideState, Snapshot

P = "qmigtui_migration_"
LABELS = ("vm", "side", "endpoint")
STATUSES = tuple(MEANING)
VERDICTS = tuple(v.value for v in Verdict)


@dataclass(frozen=True)
class Watched:
    """One VM as the exporter last saw it (``snapshot`` None: not reached yet)."""

    vm: str
    snapshot: Snapshot | None
    endpoints: dict[str, str]  # side -> address, for the up metric while never reached


def _gauge(name: str, doc: str, unit: str = "") -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=LABELS, unit=unit)


# (metric name without prefix, unit, help, member path in MigrationInfo, scale to the unit)
NUMBERS = (
    ("data_processed", "bytes", "Bytes of RAM sent so far (KubeVirt: data_processed_bytes).",
     "ram.transferred", 1.0),
    ("data_total", "bytes", "Guest RAM to migrate (KubeVirt: data_total_bytes).", "ram.total", 1.0),
    ("passes", "", "Passes over guest RAM so far (QEMU's dirty-sync-count).",
     "ram.dirty-sync-count", 1.0),
    ("expected_downtime", "seconds", "The pause QEMU expects if it switched over now.",
     "expected-downtime", 1e-3),
    ("postcopy_page_requests", "", "Pages the destination asked for in postcopy.",
     "ram.postcopy-requests", 1.0),
    ("postcopy_blocktime", "seconds", "Time the vCPUs waited for pages in postcopy.",
     "postcopy-blocktime", 1e-3),
    ("elapsed", "seconds", "Time since the migration started (its length once over).",
     "total-time", 1e-3),
)


def families(watched: Iterable[Watched]) -> Iterator[Metric]:
    """Every per-migration family for these VMs, each family once."""
    rows = list(watched)
    up = _gauge("qmigtui_endpoint_up", "1 while qmigtui is connected to this side's QEMU.")
    status = StateSetMetricFamily(P + "status", "The migration's status on this side.",
                                  labels=(*LABELS, ))
    numbers = {name: _gauge(P + name, doc, unit) for name, unit, doc, _, _ in NUMBERS}
    left = _gauge(P + "data_remaining", "Bytes still to send (KubeVirt: data_remaining_bytes).",
                  "bytes")
    rate = _gauge(P + "memory_transfer_rate", "Bytes sent per second now (KubeVirt: "
                  "memory_transfer_rate_bytes).", "bytes_per_second")
    dirty = _gauge(P + "dirty_memory_rate", "Bytes the guest dirties per second (KubeVirt: "
                   "dirty_memory_rate_bytes).", "bytes_per_second")
    limit = _gauge(P + "downtime_limit", "The most downtime allowed at switchover.", "seconds")
    throttle = _gauge(P + "throttle", "Share of vCPU time auto-converge takes away.", "ratio")
    latency = HistogramMetricFamily(P + "postcopy_fault_latency", "How long postcopy page faults "
                                    "waited (QEMU 10.1+).", labels=LABELS, unit="seconds")
    verdict = StateSetMetricFamily(P + "verdict", "qmigtui's verdict on the migration.",
                                   labels=("vm",))
    eta = GaugeMetricFamily(P + "eta", "qmigtui's estimate of the time left: the middle, and "
                            "the range (bound=low|mid|high).", labels=("vm", "bound"), unit="seconds")
    for w in rows:
        snap = w.snapshot
        sides = snap.sides if snap is not None else ()
        seen = {s.name for s in sides}
        for side, address in w.endpoints.items():
            if side not in seen:
                up.add_metric([w.vm, side, address], 0)
        for s in sides:
            labels = [w.vm, s.name, s.endpoint]
            up.add_metric(labels, 1 if s.connected else 0)
            if s.info is None:
                continue
            current = str(s.status)
            _state_set(status, LABELS, labels, _statuses(current), current)
            _side_numbers(s, labels, numbers, left, rate, dirty, limit, throttle, snap)
            _latency(s, labels, latency)
        f = snap.forecast if snap is not None else None
        if f is not None:
            _state_set(verdict, ("vm",), [w.vm], VERDICTS, str(f.verdict))
            for bound, value in (("low", f.eta_low), ("mid", f.eta), ("high", f.eta_high)):
                if value is not None and math.isfinite(value):
                    eta.add_metric([w.vm, bound], value)
    yield from (up, status, left, *numbers.values(), rate, dirty, limit, throttle, latency,
                verdict, eta)


_STATE_SAMPLES: dict[tuple[str, tuple[str, ...], str], list[Sample]] = {}
_STATE_SAMPLES_MAX = 20_000  # label sets kept (VMs, sides and their states): then started over


def _state_set(family: StateSetMetricFamily, names: tuple[str, ...], labels: list[str],
               states: tuple[str, ...], current: str) -> None:
    """``current`` among ``states``: the samples made once per VM, side and state, then
    reused (a state set is most of a scrape's samples, and the state seldom changes)."""
    key = (family.name, tuple(labels), current)
    samples = _STATE_SAMPLES.get(key)
    if samples is None:
        scratch = StateSetMetricFamily(family.name, "", labels=names)
        scratch.add_metric(labels, {state: state == current for state in states})
        if len(_STATE_SAMPLES) >= _STATE_SAMPLES_MAX:
            _STATE_SAMPLES.clear()
        samples = _STATE_SAMPLES[key] = scratch.samples
    family.samples.extend(samples)


def _statuses(current: str) -> tuple[str, ...]:
    """Every known status, and a future QEMU's own as well."""
    return STATUSES if current in STATUSES else (*STATUSES, current)


def _side_numbers(s: SideState, labels: list[str], numbers: dict[str, GaugeMetricFamily],
                  left: GaugeMetricFamily, rate: GaugeMetricFamily, dirty: GaugeMetricFamily,
                  limit: GaugeMetricFamily, throttle: GaugeMetricFamily, snap: Snapshot | None) -> None:
    info = s.info
    assert info is not None
    for name, _unit, _doc, path, scale in NUMBERS:
        value = info.number(path)  # type: ignore[arg-type]  # paths of MigrationInfo
        if value is not None:
            numbers[name].add_metric(labels, value * scale)
    if (value := remaining(info)) is not None:
        left.add_metric(labels, value)
    history = snap.histories.get(s.name) if snap is not None else None
    if history is not None and len(history) > 1:
        for family, series in ((rate, history.throughput(2)), (dirty, history.dirty_bytes_rate(2))):
            if series and math.isfinite(series[-1]):
                family.add_metric(labels, series[-1])
    if s.parameters is not None and (ms := s.parameters.number("downtime-limit")) is not None:
        limit.add_metric(labels, ms / 1000)
    if (pct := info.number("cpu-throttle-percentage")) is not None:
        throttle.add_metric(labels, pct / 100)


def _latency(s: SideState, labels: list[str], family: HistogramMetricFamily) -> None:
    """``postcopy-latency-dist`` (bucket N: waits of 2^N to 2^(N+1) us) as a cumulative
    histogram; the sum from the mean wait (``postcopy-latency``, ns) times the count."""
    info = s.info
    assert info is not None
    dist = info.numbers("postcopy-latency-dist")
    if not dist:
        return
    buckets, total = [], 0.0
    for low_us, count in latency_buckets(dist):
        total += count
        buckets.append((repr(2 * low_us / 1e6), total))
    buckets.append(("+Inf", total))
    mean_ns = info.number("postcopy-latency") or 0.0
    family.add_metric(labels, buckets, mean_ns / 1e9 * total)
