"""What a policy sees at one moment, read from a Snapshot: numbers in bytes, bytes/s and
seconds (nan: not known), the status, the forecast, and who else changed what."""

from __future__ import annotations

import math
from dataclasses import dataclass

from qmigtui.analysis.verdict import Forecast
from qmigtui.model.members import remaining
from qmigtui.model.record_paths import ParametersPath
from qmigtui.model.states import Status
from qmigtui.watch.snapshot import Snapshot

NAN = math.nan


@dataclass(frozen=True)
class Observation:
    t: float  # seconds on the source's sample clock (monotonic, or a recording's); nan: none yet
    status: Status
    remaining: float = NAN
    total: float = NAN  # guest RAM
    transferred: float = NAN
    bandwidth: float = NAN  # bytes/s the link moves now
    passes: int = 0  # QEMU's dirty-sync-count
    downtime_limit_ms: float = NAN
    max_bandwidth: float = NAN  # bytes/s; 0: not capped
    throttle: float = 0.0  # percent
    postcopy_ready: bool = False  # postcopy-ram on on both sides
    auto_converge: bool = False
    both_answer: bool = True  # both monitors connected (a recovery needs them)
    forecast: Forecast | None = None
    changed_elsewhere: frozenset[str] = frozenset()  # set by another client since we looked
    parameters: frozenset[str] | None = None  # what the source reports, so can set (None: not read)

    def can_set(self, name: str) -> bool:
        """The source takes this parameter (a libvirt domain takes only libvirt's few)."""
        return self.parameters is None or name in self.parameters

    @classmethod
    def of(cls, snap: Snapshot) -> Observation:
        src, dst = snap.source, snap.destination
        info, params = src.info, src.parameters
        history = snap.histories.get(src.name)
        # the samples' clock (monotonic, or a recording's); before the first sample, the last
        # poll's, on the same clock (never the wall clock: a timer would span both)
        t = history.latest("t") if history is not None and len(history) else (src.polled or NAN)
        num = info.number if info is not None else (lambda _key: None)
        mbps = num("ram.mbps")
        facts_bw = snap.forecast.facts.bandwidth if snap.forecast is not None else NAN
        bandwidth = facts_bw if math.isfinite(facts_bw) else (mbps * 1e6 / 8 if mbps else NAN)
        left = remaining(info) if info is not None else None

        def param(name: ParametersPath) -> float:
            value = params.number(name) if params is not None else None
            return float(value) if value is not None else NAN
        ready = src.capabilities.get("postcopy-ram", False) and (
            dst is None or dst.capabilities.get("postcopy-ram", False))
        return cls(
            t=t, status=src.status, remaining=float(left) if left is not None else NAN,
            total=float(num("ram.total") or NAN), transferred=float(num("ram.transferred") or NAN),
            bandwidth=bandwidth, passes=int(num("ram.dirty-sync-count") or 0),
            downtime_limit_ms=param("downtime-limit"), max_bandwidth=param("max-bandwidth"),
            throttle=float(num("cpu-throttle-percentage") or 0.0), postcopy_ready=bool(ready),
            auto_converge=src.capabilities.get("auto-converge", False),
            both_answer=src.connected and (dst is None or dst.connected),
            forecast=snap.forecast,
            changed_elsewhere=src.changed_elsewhere | (dst.changed_elsewhere if dst else frozenset()),
            parameters=frozenset(params.values) if params is not None else None)
