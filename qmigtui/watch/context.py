"""From what the watcher knows of both sides to the plain Context the forecast reads."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from qmigtui.analysis.forecast import Context
from qmigtui.watch.snapshot import EventLine, SideState


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
                  events: Iterable[EventLine] = ()) -> Context:
    params = src.parameters
    get = params.get if params is not None else (lambda key, default=None: default)
    error, failed = "", ""
    for side in (src, dst):
        if side is not None and side.info is not None and side.info.error_desc:
            error, failed = str(side.info.error_desc), side.name
            break
    if not failed and "postcopy-paused" in (src.status, dst.status if dst else ""):
        failed = first_paused(events)
    events = tuple(events)
    pass_walls = tuple(e.qemu_time for e in events if e.side == src.name and e.name == "MIGRATION_PASS"
                       and math.isfinite(e.qemu_time))
    blocktime = dst.info.postcopy_blocktime if dst is not None and dst.info is not None else None
    return Context(
        status=src.status,
        destination_status=dst.status if dst is not None else "none",
        downtime_limit_ms=_number(get("downtime-limit"), 300.0),
        max_bandwidth=_number(get("max-bandwidth"), math.nan),
        throttle_max=_number(get("max-cpu-throttle"), 99.0),
        vcpu_dirty_limit=_number(get("vcpu-dirty-limit"), math.nan),
        capabilities=dict(src.capabilities),
        destination_capabilities=dict(dst.capabilities) if dst is not None else {},
        commands=src.supported_commands,
        measurements=measurements,
        pass_walls=pass_walls,
        blocktime_ms=_number(blocktime, math.nan),
        error=error,
        failed_side=failed,
    )
