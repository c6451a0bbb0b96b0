"""Synthetic query-migrate series shaped like QEMU's (a pure-Python precopy, for analysis tests).

Remaining falls at the bandwidth within a pass; when it drops under
bandwidth x downtime-limit the bitmap is synced and what the guest dirtied since
the last sync (a hot set rewritten at a rate) comes back; the migration completes
when a sync finds less than the threshold.  QEMU's dirty-pages-rate is the newly
dirty pages over the last sync period of at least a second.
"""

from __future__ import annotations

import math

from qmigtui.analysis.history import FIELDS, History, Sample

MiB = 1 << 20
PAGE = 4096


def sample(t: float, status: str = "active", **values: float) -> Sample:
    v = {k: math.nan for k in FIELDS}
    v.update(t=t, wall=t, page_size=PAGE)
    v.update(values)
    return Sample(v, status)


def precopy(ram: float, hot: float, rate: float, bandwidth: float, limit_ms: float = 300,
            interval: float = 1.0, seconds: float = 120, throttle: float = math.nan,
            start: float = 1000.0) -> tuple[list[Sample], float | None]:
    """Samples every ``interval`` and the completion time (None when it never completes)."""
    dt = 0.01
    threshold = bandwidth * limit_ms / 1000
    remaining, sent, sync = ram, 0.0, 1
    since_sync, since_rate, dirty_rate_pages, dirtied = 0.0, 0.0, 0.0, 0.0
    samples: list[Sample] = []
    t, next_sample = 0.0, interval
    done: float | None = None
    while t < seconds:
        step = min(bandwidth * dt, remaining)
        remaining -= step
        sent += step
        t += dt
        since_sync += dt
        since_rate += dt
        if remaining < threshold:
            new = min(hot, rate * since_sync)
            dirtied += new
            if since_rate >= 1.0:
                dirty_rate_pages = dirtied / PAGE / since_rate
                since_rate, dirtied = 0.0, 0.0
            leftover = remaining
            remaining = leftover + new * (1 - min(1.0, leftover / hot))  # hot pages still unsent
            since_sync = 0.0
            sync += 1
            if remaining < threshold:
                done = t + remaining / bandwidth
                samples.append(sample(start + done, "completed", transferred=sent + remaining,
                                      remaining=0, total=ram, dirty_sync_count=sync))
                return samples, start + done
        if t >= next_sample - 1e-9:
            next_sample += interval
            samples.append(sample(start + t, transferred=sent, remaining=remaining, total=ram,
                                  dirty_pages_rate=dirty_rate_pages, dirty_sync_count=sync,
                                  throttle=throttle))
    return samples, done


def history(samples: list[Sample], capacity: int = 10_000) -> History:
    h = History(capacity)
    for s in samples:
        h.append(s)
    return h
