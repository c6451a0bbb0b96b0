"""The forecast of a migration in postcopy: how fast what is left drains, and whether the
guest's page faults wait long enough to hurt."""

from __future__ import annotations

import math

from qmigtui.analysis.run import FINISH_S, MIN_BANDWIDTH, MiB, Run, round_up
from qmigtui.analysis.verdict import Advice, AdviceAction, Cause, Context, Facts, Forecast, Verdict
from qmigtui.model import units

POSTCOPY_WINDOW_S = 5.0  # seconds of postcopy its rate is taken over
# a postcopy page fault that waits this long on average stalls the guest visibly (a fault
# served over a healthy link takes tens to hundreds of microseconds)
HURTING_FAULT_NS = 5_000_000


def _postcopy_rate(run: Run) -> float:
    """Bytes/s that ``remaining`` falls at since the switch to postcopy (over the last few
    seconds of it): the background stream and the pages the destination asked for, without
    the precopy rate before the switch, which a window across it would mix in."""
    t, rem = run.col("t"), run.col("remaining")
    statuses = run.statuses
    first = next((i for i in range(len(statuses) - 1, -1, -1)
                  if not statuses[i].startswith("postcopy")), -1) + 1
    if first >= len(t) - 1:  # announced by an event, not polled yet: no postcopy sample
        return math.nan
    k = first
    while k < len(t) - 1 and t[-1] - t[k] > POSTCOPY_WINDOW_S:
        k += 1
    dt = t[-1] - t[k]
    if dt < 0.5 or not (math.isfinite(rem[k]) and math.isfinite(rem[-1])):
        return math.nan
    return max(0.0, (rem[k] - rem[-1]) / dt)


def postcopy_forecast(run: Run, ctx: Context) -> Forecast:
    bw, _, _ = run.bandwidth()
    rate = _postcopy_rate(run)
    cap = ctx.max_postcopy_bandwidth
    if math.isnan(rate):  # just switched: the cap postcopy runs at, else the link's rate
        rate = cap if cap > 0 else bw
    remaining = run.last("remaining")
    t, req = run.col("t"), run.col("postcopy_requests")
    k = max(0, len(t) - 6)
    dt = t[-1] - t[k]
    req_rate = (req[-1] - req[k]) / dt if dt > 0 and not math.isnan(req[-1] - req[k]) else math.nan
    hurts = ctx.fault_latency_ns >= HURTING_FAULT_NS  # False for nan
    facts = Facts(remaining=remaining, postcopy_rate=rate,
                  max_postcopy_bandwidth=cap if cap > 0 else math.nan, page_request_rate=req_rate,
                  blocktime_ms=ctx.blocktime_ms, fault_wait_ns=ctx.fault_latency_ns)
    if math.isnan(rate) or rate < MIN_BANDWIDTH or math.isnan(remaining):
        return Forecast(Verdict.POSTCOPY, Cause.POSTCOPY_IDLE, facts, advice=(Advice(AdviceAction.PAUSE),))
    eta = remaining / rate + FINISH_S
    # no faster than half again the rate seen (page requests come on top of the cap, and the
    # last pages go at once); the end keeps the finishing time: the range never shrinks to a point
    fast = min(1.5 * rate, 1.5 * cap) if cap > 0 else 1.5 * rate
    slow = 0.6 * rate
    advice = (_more_postcopy_bandwidth(cap),) if hurts and cap > 0 else ()  # else healthy: nothing
    return Forecast(Verdict.POSTCOPY, Cause.POSTCOPY_LEFT, facts, eta=eta,
                    eta_low=min(eta, remaining / max(fast, rate)), eta_high=remaining / slow + 3 * FINISH_S,
                    advice=advice, hurting=hurts)


def _more_postcopy_bandwidth(cap: float) -> Advice:
    target = round_up(2 * cap, MiB)
    return Advice(AdviceAction.SET_PARAMETER, "max-postcopy-bandwidth", units.format_size_input(target),
                  float(target))
