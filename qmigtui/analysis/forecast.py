"""Will it converge, when will it end, and what to do: one verdict per moment of a migration.

Plain data in (the History of the source, a Context of settings), a Forecast out, made
of facts only: a verdict, the cause behind it, ETA with a range, predicted downtime, the
numbers behind it (``Facts``, in bytes, bytes/s, seconds) and remedies as typed actions
with their arguments.  No sentence and no key name: the UI words them, and an unattended
policy acts on them without reading text.
"""

from __future__ import annotations

import itertools
import math

from qmigtui.analysis.footprint import Footprint, simulate
from qmigtui.analysis.history import HistoryView
from qmigtui.analysis.postcopy_outlook import postcopy_forecast
from qmigtui.analysis.run import FINISH_S, MIN_BANDWIDTH, MiB, PassStart, Run, round_up
from qmigtui.analysis.stall import stalled_pass
from qmigtui.analysis.verdict import (
    Advice,
    AdviceAction,
    Cause,
    Context,
    Facts,
    Forecast,
    Verdict,
)
from qmigtui.model import units
from qmigtui.model.evolve import evolve
from qmigtui.model.states import RECOVERING, Status

NOT_CONVERGING_RATIO = 0.95  # dirty/bandwidth at which passes stop shrinking in practice
FLAT = 0.9  # a pass start at 90 % or more of the previous one is no real headway
AGREE = 1.5  # two pass starts whose dirty rates differ by more than this do not agree
SHORT_WINDOW_S = 2.0  # a measuring window no longer than this sees a rate, not a hot set
BURST = 2.5  # dirty rates this many times apart: the guest writes in bursts
STILL_S = 3.0  # seconds of samples without progress before that is called a stall
ZERO_SHARE_MAX = 0.95  # at most this share of what is left counted as zero pages
PAGE = 4096  # bytes of a target page (x86)


def forecast(history: HistoryView | None, ctx: Context) -> Forecast:
    """The verdict for the source side of one migration."""
    status = Status(ctx.status)
    if status.ended:
        return _ended(status, ctx)
    if status.failed:  # failing (QEMU 11.0+): failed, not yet cleaned up
        return Forecast(Verdict.FAILED, Cause.FAILING, Facts(status=status, error=ctx.error))
    if status == "cancelling":
        return Forecast(Verdict.CANCELLING, Cause.CANCELLING)
    if status == "none":
        return preflight(ctx) if ctx.measurements else Forecast(Verdict.IDLE, Cause.NO_MIGRATION)
    if status.paused or status.recovering or ctx.destination_status == "postcopy-paused":
        return _paused(status, ctx)
    if status in ("pre-switchover", "device") and ctx.commands and "migrate-continue" not in ctx.commands:
        # no migrate-continue to send: the VM's manager turned pause-before-switchover on and
        # continues by itself
        return Forecast(Verdict.SWITCHOVER, Cause.MANAGER_CONTINUES,
                        Facts(status=status, manager=ctx.manager), advice=(_cancel(),))
    if status in ("pre-switchover", "device"):
        return Forecast(Verdict.SWITCHOVER, Cause.WAITS_AT_SWITCHOVER, Facts(status=status),
                        advice=(Advice(AdviceAction.CONTINUE), _cancel()))
    if status == "wait-unplug":
        return Forecast(Verdict.SWITCHOVER, Cause.WAIT_UNPLUG, advice=(_cancel(),))
    run = Run(history) if history is not None else None
    if run is None or len(run) < 2:
        return Forecast(Verdict.GATHERING, Cause.GATHERING,
                        advice=(_cancel(),) if status != "setup" else ())
    if status.postcopy or status == "postcopy-device":
        return postcopy_forecast(run, ctx)
    return _precopy(run, ctx)


# -- precopy ------------------------------------------------------------------


def _pass_points(run: Run, starts: list[PassStart]) -> list[tuple[float, float]]:
    """(pass length, bytes QEMU found newly dirty at its end) for passes seen whole (where
    QEMU syncs many times a pass, each second or so of syncs as one)."""
    points = []
    for a, b in itertools.pairwise(starts):
        length = b.t - a.t
        whole = b.sync == a.sync + 1 or (run.frequent_syncs and b.sync > a.sync)
        if whole and length >= 1.0 and b.dirty_rate > 0:
            points.append((length, b.dirty_rate * length))
    return points


def footprint_of(run: Run, starts: list[PassStart], measurements: tuple[tuple[float, float], ...],
                 throttled: bool = False) -> Footprint | None:
    """Recent passes and measurements together; while QEMU throttles the guest, the passes
    alone decide the rate (a measurement from before the throttle overstates it).

    A pass that re-sends the whole hot set shows only ``hot set / pass length``, a lower
    bound of the rate: a short measuring window is what shows the real one.
    """
    passes = _pass_points(run, starts)[-3:]
    measured = [(s, r * s) for s, r in measurements]
    both = Footprint.fit(passes + measured)
    if throttled and len(passes) >= 2:
        recent = Footprint.fit(passes)
        assert recent is not None and both is not None
        return Footprint(recent.rate, min(recent.cap, both.cap))
    return both


def _precopy(run: Run, ctx: Context) -> Forecast:
    bw, bw_low, bw_high = run.bandwidth()
    remaining = run.last("remaining")
    limit = ctx.downtime_limit_ms
    if math.isnan(bw) or math.isnan(remaining):
        return Forecast(Verdict.GATHERING, Cause.GATHERING, advice=(_cancel(),))
    if bw < MIN_BANDWIDTH:
        if run.span() < STILL_S:  # the first samples of a start: not yet a stall
            return Forecast(Verdict.GATHERING, Cause.GATHERING, advice=(_cancel(),))
        return Forecast(Verdict.STALLED, Cause.LINK_IDLE, Facts(bandwidth=bw),
                        advice=(_cancel(),), downtime_limit_ms=limit)
    threshold = bw * limit / 1000
    starts = run.pass_starts(ctx.pass_walls)
    current = starts[-1] if starts else None
    elapsed = run.last("t") - current.t if current else 0.0
    throttle = run.last("throttle")
    fp = footprint_of(run, starts, ctx.measurements, throttled=throttle > 0)
    measured = bool(ctx.measurements)  # a short window saw the real rate, not only what passes show
    wants = not measured and "calc-dirty-rate" in ctx.commands
    first_pass = current is None or current.sync <= 1
    zeros = _zeros_left(run, ctx.zero_share) if first_pass else math.nan
    to_send = remaining * (1 - zeros) if math.isfinite(zeros) else remaining
    facts = Facts(bandwidth=bw, bandwidth_low=bw_low, bandwidth_high=bw_high, remaining=remaining,
                  switchover_below=threshold, pass_number=current.sync if current else 1,
                  pass_elapsed_s=elapsed, throttle=throttle, throttle_max=ctx.throttle_max,
                  zeros_left=zeros, to_send=to_send if math.isfinite(zeros) else math.nan,
                  zero_share=ctx.zero_share, measuring=wants,
                  auto_converge=bool(ctx.capabilities.get("auto-converge")), max_bandwidth=ctx.max_bandwidth)
    if fp is not None:
        facts = evolve(facts, dirty_rate=fp.rate, dirty_rate_is_lower_bound=not measured, hot_set=fp.cap)
    scan = first_pass and math.isnan(ctx.zero_share) and "human-monitor-command" in ctx.commands
    if fp is None:
        rest = max(0.0, to_send - threshold) / bw
        return Forecast(
            Verdict.FIRST_PASS if first_pass else Verdict.GATHERING, Cause.FIRST_PASS,
            evolve(facts, first_pass_left_s=rest), eta=None, downtime_limit_ms=limit,
            wants_measurement=wants, wants_zero_scan=scan,
            advice=tuple(a for a in (_measure(ctx), _cancel()) if a is not None))
    outlook = simulate(to_send, elapsed, bw, threshold, fp)
    facts = evolve(facts, dirty_ratio=fp.rate / bw)
    stuck, facts = _stuck(run, starts, facts)
    if stuck or not outlook.converges:
        out = _not_converging(ctx, fp, bw, remaining, starts, throttle, facts, stuck, measured)
        return evolve(out, wants_measurement=wants, wants_zero_scan=scan)
    down = outlook.final_bytes / bw
    eta = outlook.seconds + down + FINISH_S
    eta_low, eta_high = _eta_range(eta, facts, first_pass, elapsed, fp, measured)
    if first_pass:
        verdict = Verdict.FIRST_PASS
    elif _passes_agree(starts):
        verdict = Verdict.CONVERGING
    else:  # the word says it: the ETA of one pass, not yet a promise
        verdict = Verdict.ESTIMATING
    facts = evolve(facts, passes_to_go=outlook.passes, switchover_in_s=outlook.seconds,
                    one_pass_only=verdict is Verdict.ESTIMATING)
    return Forecast(verdict, Cause.SWITCHOVER_IN, facts, eta=eta, eta_low=eta_low, eta_high=eta_high,
                    switchover_in=outlook.seconds, downtime_ms=down * 1000, downtime_limit_ms=limit,
                    advice=(_cancel(),), wants_measurement=wants, wants_zero_scan=scan)


def _eta_range(eta: float, facts: Facts, first_pass: bool, elapsed: float, fp: Footprint,
               measured: bool) -> tuple[float, float]:
    """The ETA's range: the migration again with what is left, the link and the dirty rate
    at the ends of what the readings allow."""
    remaining, zeros, bw = facts.remaining, facts.zeros_left, facts.bandwidth
    bw_low, bw_high, threshold = facts.bandwidth_low, facts.bandwidth_high, facts.switchover_below
    to_send = facts.to_send if math.isfinite(zeros) else remaining
    # unknown zero pages: any of what is left may be zero; a sample of 256 pages is ±6 %
    low_send = (remaining * (1 - ZERO_SHARE_MAX) if math.isnan(zeros) else
                remaining * (1 - min(ZERO_SHARE_MAX, zeros + 0.06))) if first_pass else to_send
    high_send = remaining * (1 - max(0.0, zeros - 0.06)) if first_pass and math.isfinite(zeros) else remaining
    low = simulate(low_send, elapsed, bw_high if bw_high > bw else bw * 1.1, threshold, fp.scaled(0.9))
    # a one-second page-sampling reads whole MB/s from a sample: up to a quarter low
    high = simulate(high_send, elapsed, bw_low if 0 < bw_low < bw else bw * 0.9, threshold,
                    fp.scaled(1.3 if measured else 1.5))
    eta_low = min(eta, low.seconds + low.final_bytes / bw) if low.converges else eta
    eta_high = max(eta, high.seconds + high.final_bytes / bw + 2 * FINISH_S) if high.converges else math.inf
    return eta_low, eta_high


def _zeros_left(run: Run, share: float) -> float:
    """The share of zero pages in what the first pass has still to go through: the zero pages
    a sample of guest RAM promised, less those QEMU already sent (nan: no sample)."""
    total, remaining = run.last("total"), run.last("remaining")
    sent_zero = run.last("duplicate") * PAGE
    if math.isnan(share) or not (total > 0 and remaining > 0):
        return math.nan
    left = share * total - (sent_zero if math.isfinite(sent_zero) else 0.0)
    return min(ZERO_SHARE_MAX, max(0.0, left / remaining))


def _passes_agree(starts: list[PassStart]) -> bool:
    """The last two pass starts after the first pass shrank, at dirty rates that agree: the
    passes themselves show headway, not a guest that happened to pause."""
    later = [s for s in starts if s.sync >= 2 and math.isfinite(s.remaining)]
    if len(later) < 2:
        return False
    a, b = later[-2], later[-1]
    rates = sorted((a.dirty_rate, b.dirty_rate))
    steady = rates[0] > 0 and rates[1] <= AGREE * rates[0]
    return b.remaining < FLAT * a.remaining and steady


def bursty(starts: list[PassStart], measurements: tuple[tuple[float, float], ...]
           ) -> tuple[float, float] | None:
    """(low, high) bytes/s when the guest writes in bursts: the rates QEMU reported at the
    last pass starts differ several times over, or a measurement saw the guest quiet while
    the passes saw it busy; None for a steady guest. The rate at the start of pass 2 is left
    out where later ones exist: it covers the long first pass, which a hot set caps."""
    later = [s.dirty_rate for s in starts if s.sync >= 2 and math.isfinite(s.dirty_rate)]
    rates = later[1:][-4:] or later[-1:]
    # short windows only: a long one reads low because it saw the same hot pages again
    seen = rates + [r for window, r in measurements if window <= SHORT_WINDOW_S]
    if len(seen) < 2 or max(rates, default=0.0) <= 0:
        return None
    low, high = min(seen), max(rates)
    return (low, high) if low < high / BURST else None


def _stuck(run: Run, starts: list[PassStart], facts: Facts) -> tuple[str, Facts]:
    """("stalled" | "model" | "", facts with the last two pass starts): passes stopped making
    new lows, or the model says so at two pass starts in a row (or at one whose start was no
    lower than the last)."""
    later = [s for s in starts if s.sync >= 2]
    stalled = stalled_pass(starts) is not None
    facts = evolve(facts, no_new_low=stalled)
    if len(later) < 2:
        return ("stalled" if stalled else ""), facts
    last, prev = later[-1], later[-2]
    facts = evolve(facts, prev_start_pass=prev.sync, prev_start_remaining=prev.remaining,
                    last_start_pass=last.sync, last_start_remaining=last.remaining)
    flat = last.remaining >= FLAT * prev.remaining
    prev_bw = run.bandwidth(prev.index)[0] if prev.index > 0 else math.nan
    prev_ratio = prev.dirty_rate / prev_bw if prev_bw > 0 else 0.0
    if facts.dirty_ratio >= NOT_CONVERGING_RATIO and (flat or prev_ratio >= NOT_CONVERGING_RATIO):
        return "model", facts
    return ("stalled" if stalled else ""), facts


def _not_converging(ctx: Context, fp: Footprint, bw: float, remaining: float,
                    starts: list[PassStart], throttle: float, facts: Facts,
                    stuck: str, measured: bool = True) -> Forecast:
    """Confirmed (``stuck``): not-converging, stalled or throttling; else only at risk."""
    later = [s.remaining for s in starts if s.sync >= 2 and math.isfinite(s.remaining)][-3:] \
        or [remaining]  # a pass start whose sample lacked 'remaining' says nothing of the hot set
    hot = max(later)  # a sample comes after its sync: the largest is the closest to the whole set
    need_ms = _round_up_ms(hot / bw * 1000 * 1.2)
    facts = evolve(facts, hot_bytes=hot, dirty_limit_on=bool(ctx.capabilities.get("dirty-limit")),
                    vcpu_dirty_limit=ctx.vcpu_dirty_limit)
    auto = ctx.capabilities.get("auto-converge")
    burst = bursty(starts, ctx.measurements)
    cause = Cause.DIRTY_OUTRUNS_LINK
    if not stuck:
        verdict = Verdict.AT_RISK
    elif burst is not None and stuck == "model":
        verdict, cause = Verdict.AT_RISK, Cause.BURSTS
        facts = evolve(facts, burst_low=burst[0], burst_high=burst[1])
    elif auto and (math.isnan(throttle) or throttle < ctx.throttle_max):
        verdict, cause = Verdict.THROTTLING, Cause.AUTO_CONVERGE
    else:
        verdict = Verdict.STALLED if stuck == "stalled" else Verdict.NOT_CONVERGING
    return Forecast(verdict, cause, facts, eta=None, eta_high=math.inf, downtime_ms=need_ms,
                    downtime_limit_ms=ctx.downtime_limit_ms,
                    advice=_remedies(ctx, fp, bw, need_ms, measured))


def _remedies(ctx: Context, fp: Footprint, bw: float, need_ms: float, measured: bool = True
              ) -> tuple[Advice, ...]:
    """What can work here, the surest first: postcopy ends any precopy that will not converge
    when postcopy-ram is on; a downtime limit the hot set fits in; more bandwidth only where the
    cap is what holds the link back, above the cap, and marked uncertain when the guest's rate
    is known only as a lower bound (the guest may dirty faster as the link sends faster);
    a vCPU dirty limit only where KVM runs the guest (its dirty ring)."""
    out: list[Advice] = []
    if ctx.capabilities.get("postcopy-ram") and ctx.status == "active":
        out.append(Advice(AdviceAction.POSTCOPY))
    if need_ms > ctx.downtime_limit_ms:
        out.append(Advice(AdviceAction.SET_PARAMETER, "downtime-limit", f"{int(need_ms)}ms", need_ms))
    cap = ctx.max_bandwidth
    target = round_up(fp.rate * 1.5, MiB)
    if not math.isnan(cap) and cap > 0 and bw >= 0.8 * cap and target > cap:
        out.append(Advice(AdviceAction.SET_PARAMETER, "max-bandwidth", units.format_size_input(target),
                          float(target), uncertain=not measured))
    if "set-vcpu-dirty-limit" in ctx.commands and ctx.kvm:
        per = max(1, int(bw * 0.5 / MiB))
        out.append(Advice(AdviceAction.DIRTY_LIMIT, "dirty-rate", per, float(per)))
    out.append(_cancel())
    return tuple(out)


def _round_up_ms(ms: float) -> float:
    return float(round_up(ms, 100 if ms < 2000 else 500))


def _cancel() -> Advice:
    return Advice(AdviceAction.CANCEL)


def _measure(ctx: Context) -> Advice | None:
    return Advice(AdviceAction.MEASURE) if "calc-dirty-rate" in ctx.commands else None


# -- before a migration ------------------------------------------------------------


def preflight(ctx: Context) -> Forecast:
    """Before starting: can precopy converge with this dirty rate and bandwidth cap?"""
    fp = Footprint.fit((s, r * s) for s, r in ctx.measurements)
    cap = ctx.max_bandwidth
    if fp is None:
        return Forecast(Verdict.IDLE, Cause.NO_MIGRATION)
    facts = Facts(dirty_rate=fp.rate, hot_set=fp.cap, max_bandwidth=cap)
    if math.isnan(cap) or cap <= 0:
        return Forecast(Verdict.PREFLIGHT, Cause.PREFLIGHT_RATE, facts)
    threshold = cap * ctx.downtime_limit_ms / 1000
    if fp.rate < NOT_CONVERGING_RATIO * cap or fp.cap <= threshold:
        return Forecast(Verdict.PREFLIGHT, Cause.PREFLIGHT_CONVERGES, facts)
    target = round_up(fp.rate * 1.5, MiB)
    advice = [Advice(AdviceAction.SET_PARAMETER, "max-bandwidth", units.format_size_input(target),
                     float(target))]
    for cap_name in ("postcopy-ram", "auto-converge", "dirty-limit"):
        if cap_name in ctx.capabilities and not ctx.capabilities[cap_name]:
            advice.append(Advice(AdviceAction.CAPABILITY, cap_name, True))
    return Forecast(Verdict.PREFLIGHT, Cause.PREFLIGHT_WILL_NOT, facts, advice=tuple(advice))


# -- postcopy -------------------------------------------------------------------------


def _paused(status: str, ctx: Context) -> Forecast:
    if status in RECOVERING or ctx.destination_status in RECOVERING:
        return Forecast(Verdict.RECOVERING, Cause.RECOVERING)
    cause = Cause.PAUSED_BY_OPERATOR if ctx.paused_by_operator else Cause.LINK_FAILED
    return Forecast(Verdict.PAUSED, cause, Facts(status=status, failed_side=ctx.failed_side,
                                                 error=ctx.error),
                    advice=(Advice(AdviceAction.RECOVER),))


def _ended(status: str, ctx: Context) -> Forecast:
    if status == "failed":
        return Forecast(Verdict.FAILED, Cause.FAILED, Facts(status=status, error=ctx.error))
    return Forecast(Verdict(status), Cause.ENDED, Facts(status=status))
