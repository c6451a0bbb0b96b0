"""From a Snapshot to the plain Context the forecast reads, and the forecast of a Snapshot."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from qmigtui.analysis.forecast import forecast
from qmigtui.analysis.verdict import Context, Forecast
from qmigtui.model.states import paused_on_purpose
from qmigtui.watch.snapshot import EventLine, SideState, Snapshot

MEASUREMENT_MAX_AGE = 600.0  # seconds a dirty-rate measurement still informs the forecast


def _number(value: Any, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def first_paused(events: Iterable[EventLine]) -> str:
    """The side that announced postcopy-paused first in the latest pause (it saw the failure)."""
    first = ""
    for e in events:
        if e.name != "MIGRATION":
            continue
        status = e.data.get("status")
        if status == "postcopy-active":
            first = ""
        elif status == "postcopy-paused" and not first:
            first = e.side
    return first


def build_context(src: SideState, dst: SideState | None,
                  measurements: tuple[tuple[float, float], ...],
                  events: Iterable[EventLine] = (), zero_share: float = math.nan) -> Context:
    params = src.parameters
    get = params.get if params is not None else (lambda key, default=None: default)
    error, failed, on_purpose = "", "", False
    for side in (src, dst):
        desc = side.info.text("error-desc") if side is not None and side.info is not None else None
        if side is not None and desc and paused_on_purpose(desc):
            on_purpose = True  # QEMU 10 gives the source this error-desc for a migrate-pause
        elif side is not None and desc:
            error, failed = desc, side.name
            break
    on_purpose = on_purpose or src.pause_asked or (dst is not None and dst.pause_asked)
    if not failed and not on_purpose and "postcopy-paused" in (src.status, dst.status if dst else ""):
        failed = first_paused(events)
    events = tuple(events)
    pass_walls = tuple(e.qemu_time for e in events if e.side == src.name and e.name == "MIGRATION_PASS"
                       and math.isfinite(e.qemu_time))
    dst_info = dst.info if dst is not None else None
    blocktime = dst_info.number("postcopy-blocktime") if dst_info is not None else None
    latency = dst_info.number("postcopy-latency") if dst_info is not None else None
    return Context(
        status=src.status,
        destination_status=dst.status if dst is not None else "none",
        downtime_limit_ms=_number(get("downtime-limit"), 300.0),
        max_bandwidth=_number(get("max-bandwidth"), math.nan),
        max_postcopy_bandwidth=_number(get("max-postcopy-bandwidth"), math.nan),
        throttle_max=_number(get("max-cpu-throttle"), 99.0),
        vcpu_dirty_limit=_number(get("vcpu-dirty-limit"), math.nan),
        capabilities=dict(src.capabilities),
        destination_capabilities=dict(dst.capabilities) if dst is not None else {},
        commands=src.supported_commands,
        measurements=measurements,
        zero_share=zero_share,
        pass_walls=pass_walls,
        blocktime_ms=_number(blocktime, math.nan),
        fault_latency_ns=_number(latency, math.nan),
        kvm=src.kvm,
        error=error,
        failed_side=failed,
        paused_by_operator=on_purpose and not failed,
        manager=src.via,
    )


class Forecaster:
    """The source's forecast of a Snapshot, from that snapshot's own frozen fields; worked out
    again only when a sample, a state, a setting, a measurement or an event changed."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] = ()
        self._last: Forecast | None = None

    def __call__(self, snap: Snapshot) -> Forecast | None:
        src, dst = snap.source, snap.destination
        history = snap.histories.get(src.name)
        recent = tuple((m.seconds, m.bytes_per_s) for m in snap.measurements
                       if m.side == src.name and snap.wall - m.wall < MEASUREMENT_MAX_AGE)
        zero = next((z.share for z in reversed(snap.zero_shares)
                     if z.side == src.name and snap.wall - z.wall < MEASUREMENT_MAX_AGE), math.nan)
        key = (history.total_seen if history is not None else -1,
               len(history) if history is not None else 0, src, dst, recent, zero,
               snap.events[-1].seq if snap.events else 0)
        if key != self._key:
            self._last = forecast(history, build_context(src, dst, recent, snap.events, zero))
            self._key = key
        return self._last
