"""Will it converge, when will it end, and what to do: one verdict per moment of a migration.

Plain data in (the History of the source, a Context of settings), a Forecast out:
a verdict word, a one-line summary, ETA with a range, predicted downtime, the
numbers behind it, and advice each of which maps to one action of the app.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from qmigtui.analysis.footprint import Footprint, simulate
from qmigtui.analysis.history import HistoryView
from qmigtui.analysis.run import PassStart, Run
from qmigtui.analysis.stall import stalled_pass
from qmigtui.model import units
from qmigtui.model.states import FAILING, RECOVERING

NOT_CONVERGING_RATIO = 0.95  # dirty/bandwidth at which passes stop shrinking in practice
FLAT = 0.9  # a pass start at 90 % or more of the previous one is no real headway
AGREE = 1.5  # two pass starts whose dirty rates differ by more than this do not agree
SHORT_WINDOW_S = 2.0  # a measuring window no longer than this sees a rate, not a hot set
BURST = 2.5  # dirty rates this many times apart: the guest writes in bursts
MIN_BANDWIDTH = 1024.0  # bytes/s under which nothing is really moving
STILL_S = 3.0  # seconds of samples without progress before that is called a stall
MiB = 1 << 20
ZERO_SHARE_MAX = 0.95  # at most this share of what is left counted as zero pages
PAGE = 4096  # bytes of a target page (x86)
POSTCOPY_WINDOW_S = 5.0  # seconds of postcopy its rate is taken over
# a postcopy page fault that waits this long on average stalls the guest visibly (a fault
# served over a healthy link takes tens to hundreds of microseconds)
HURTING_FAULT_NS = 5_000_000
FINISH_S = 0.4  # seconds from the last pass to "completed": device state, the last syncs


@dataclass(frozen=True)
class Context:
    """What the forecast needs besides the samples: settings and what this QEMU offers."""

    status: str = "none"
    destination_status: str = "none"
    downtime_limit_ms: float = 300.0
    max_bandwidth: float = math.nan  # bytes/s
    max_postcopy_bandwidth: float = math.nan  # bytes/s; 0 or nan: not capped
    throttle_max: float = 99.0
    vcpu_dirty_limit: float = math.nan  # MB/s per vCPU while the dirty-limit capability is on
    capabilities: dict[str, bool] = field(default_factory=dict)
    destination_capabilities: dict[str, bool] = field(default_factory=dict)
    commands: frozenset[str] = frozenset()
    measurements: tuple[tuple[float, float], ...] = ()  # (window s, bytes/s) from calc-dirty-rate
    zero_share: float = math.nan  # share of guest RAM in zero pages, sampled (nan: not known)
    pass_walls: tuple[float, ...] = ()  # wall times of the source's MIGRATION_PASS events
    blocktime_ms: float = math.nan  # postcopy-blocktime on the destination
    fault_latency_ns: float = math.nan  # postcopy-latency on the destination (10.1+): mean fault wait
    kvm: bool | None = None  # the source runs its guest under KVM (None: not known)
    error: str = ""  # error-desc of a side, when QEMU gave one
    failed_side: str = ""
    paused_by_operator: bool = False  # a migrate-pause, not a failure


class Verdict(StrEnum):
    """What the forecast says of a migration at one moment."""

    IDLE = "idle"  # no migration running
    PREFLIGHT = "preflight"  # none running, a dirty-rate measurement says what one would do
    GATHERING = "gathering"
    FIRST_PASS = "first-pass"
    ESTIMATING = "estimating"  # an ETA from one pass, not yet confirmed by the next
    CONVERGING = "converging"
    AT_RISK = "at-risk"
    NOT_CONVERGING = "not-converging"
    STALLED = "stalled"
    THROTTLING = "throttling"
    SWITCHOVER = "switchover"
    POSTCOPY = "postcopy"
    PAUSED = "paused"
    RECOVERING = "recovering"
    CANCELLING = "cancelling"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ENDED = frozenset({Verdict.COMPLETED, Verdict.FAILED, Verdict.CANCELLED})


class AdviceAction(StrEnum):
    """The app action a remedy is done with."""

    SET_PARAMETER = "set-parameter"
    CAPABILITY = "capability"
    DIRTY_LIMIT = "dirty-limit"
    POSTCOPY = "postcopy"
    PAUSE = "pause"
    RECOVER = "recover"
    CONTINUE = "continue"
    CANCEL = "cancel"
    MEASURE = "measure"


@dataclass(frozen=True)
class Advice:
    """One thing the operator can do now; ``action`` names the app action that does it."""

    action: AdviceAction
    label: str
    why: str
    target: str = ""  # parameter or capability name
    value: Any = None  # what to set it to
    uncertain: bool = False  # worked out from a dirty rate known only as a lower bound


@dataclass(frozen=True)
class Forecast:
    verdict: Verdict
    summary: str
    eta: float | None = None  # seconds to completion, middle estimate
    eta_low: float | None = None
    eta_high: float | None = None  # inf: no upper bound known
    switchover_in: float | None = None
    downtime_ms: float | None = None  # stop-and-copy: at most this at the measured bandwidth
    #                                   (QEMU lifts the cap for it); not converging: what it would need
    downtime_limit_ms: float | None = None
    reasons: tuple[tuple[str, str], ...] = ()  # numbers used, for the detail view
    advice: tuple[Advice, ...] = ()
    steps: tuple[str, ...] = ()  # recovery steps in words (paused postcopy)
    wants_measurement: bool = False  # the guest's dirty rate is known only as a lower bound
    wants_zero_scan: bool = False  # a first pass whose share of zero pages is not known
    hurting: bool = False  # postcopy: the guest's page faults wait long (QEMU 10.1+'s latency)

    @property
    def converging(self) -> bool | None:
        if self.verdict in (Verdict.CONVERGING, Verdict.FIRST_PASS, Verdict.ESTIMATING):
            return True
        if self.verdict in (Verdict.NOT_CONVERGING, Verdict.STALLED):
            return False
        return None

    @property
    def first_remedy(self) -> Advice | None:
        """The remedy one key (a) does: the first that is not giving up."""
        return next((a for a in self.advice if a.action is not AdviceAction.CANCEL), None)


def _fmt_s(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "?"
    if math.isinf(seconds):
        return "never"
    return units.format_ms(seconds * 1000)


def eta_text(f: Forecast) -> str:
    """``ETA 42 s (35 s–51 s)`` or empty."""
    if f.eta is None:
        return ""
    text = f"ETA {_fmt_s(f.eta)}"
    if f.eta_low is not None and f.eta_high is not None:
        text += f" ({_fmt_s(f.eta_low)}–{_fmt_s(f.eta_high)})"
    return text


def forecast(history: HistoryView | None, ctx: Context) -> Forecast:
    """The verdict for the source side of one migration."""
    status = ctx.status
    if status in ("completed", "failed", "cancelled"):
        return _ended(status, ctx)
    if status in FAILING:  # QEMU 11.0+: failed, not yet cleaned up
        return Forecast(Verdict.FAILED, ctx.error or "failing: QEMU is cleaning up")
    if status in ("none", "cancelling"):
        if status == "cancelling":
            return Forecast(Verdict.CANCELLING, "cancelling")
        return preflight(ctx) if ctx.measurements else Forecast(Verdict.IDLE, "no migration running")
    if status in ("postcopy-paused", *RECOVERING) or ctx.destination_status == "postcopy-paused":
        return _paused(status, ctx)
    if status in ("pre-switchover", "device") and ctx.commands and "migrate-continue" not in ctx.commands:
        # a domain under libvirt: libvirt turned pause-before-switchover on and continues itself
        return Forecast(Verdict.SWITCHOVER, f"at {status}: libvirt continues to switchover",
                        advice=(_cancel(),))
    if status in ("pre-switchover", "device"):
        return Forecast(Verdict.SWITCHOVER, f"QEMU waits at {status}: press n to continue",
                        advice=(Advice(AdviceAction.CONTINUE, "continue to switchover",
                                       "pause-before-switchover is on and QEMU waits"),
                                _cancel()))
    if status == "wait-unplug":
        return Forecast(Verdict.SWITCHOVER, "waiting for the guest to unplug its failover NIC",
                        advice=(_cancel(),))
    run = Run(history) if history is not None else None
    if run is None or len(run) < 2:
        return Forecast(Verdict.GATHERING, "gathering samples",
                        advice=(_cancel(),) if status != "setup" else ())
    if status.startswith("postcopy"):
        return _postcopy(run, ctx)
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
        return Forecast(Verdict.GATHERING, "gathering samples", advice=(_cancel(),))
    if bw < MIN_BANDWIDTH:
        if run.span() < STILL_S:  # the first samples of a start: not yet a stall
            return Forecast(Verdict.GATHERING, "gathering samples", advice=(_cancel(),))
        return Forecast(Verdict.STALLED, "nothing sent for seconds: is the link up?",
                        reasons=(("bandwidth", units.format_rate(bw)),),
                        advice=(_cancel(),), downtime_limit_ms=limit)
    threshold = bw * limit / 1000
    starts = run.pass_starts(ctx.pass_walls)
    current = starts[-1] if starts else None
    elapsed = run.last("t") - current.t if current else 0.0
    throttle = run.last("throttle")
    fp = footprint_of(run, starts, ctx.measurements, throttled=throttle > 0)
    measured = bool(ctx.measurements)  # a short window saw the real rate, not only what passes show
    wants = not measured and "calc-dirty-rate" in ctx.commands
    reasons: list[tuple[str, str]] = [
        ("bandwidth", f"{units.format_rate(bw)} ({units.format_rate(bw_low)}–{units.format_rate(bw_high)})"),
        ("remaining", units.format_bytes(remaining)),
        ("switchover at", f"< {units.format_bytes(threshold)} (bandwidth × downtime-limit "
                          f"{units.format_ms(limit)})"),
        ("pass", f"{current.sync if current else 1}, {_fmt_s(elapsed)} in")]
    if fp is not None:
        reasons.append(("guest dirties", units.format_rate(fp.rate)
                        + ("" if measured else " at least (from the passes: a lower bound)")
                        + (f", hot set {units.format_bytes(fp.cap)}" if math.isfinite(fp.cap) else "")))
    if not math.isnan(throttle):
        reasons.append(("cpu throttle", f"{throttle:.0f} % of max {ctx.throttle_max:.0f} %"))
    first_pass = current is None or current.sync <= 1
    zeros = _zeros_left(run, ctx.zero_share) if first_pass else math.nan
    to_send = remaining * (1 - zeros) if math.isfinite(zeros) else remaining
    if math.isfinite(zeros):
        reasons.append(("zero pages left", f"{zeros * 100:.0f} % of what the first pass has to go "
                                           f"(sent almost free): about {units.format_bytes(to_send)} "
                                           f"to send; {ctx.zero_share * 100:.0f} % of guest RAM"))
    scan = first_pass and math.isnan(ctx.zero_share) and "human-monitor-command" in ctx.commands
    if fp is None:
        rest = max(0.0, to_send - threshold) / bw
        return Forecast(
            Verdict.FIRST_PASS if first_pass else Verdict.GATHERING,
            f"{units.format_bytes(remaining)} to go, first pass ends in ~{_fmt_s(rest)}; "
            "dirty rate known after it" + ("" if not wants else " (measuring it now)"),
            eta=None, downtime_limit_ms=limit,
            reasons=tuple(reasons), wants_measurement=wants, wants_zero_scan=scan,
            advice=tuple(a for a in (_measure(ctx), _cancel()) if a is not None))
    outlook = simulate(to_send, elapsed, bw, threshold, fp)
    ratio = fp.rate / bw
    reasons.append(("dirty / bandwidth", f"{ratio:.2f}"))
    stuck, why = _stuck(run, starts, ratio)
    if why:
        reasons.append(("headway", why))
    if stuck or not outlook.converges:
        out = _not_converging(ctx, fp, bw, remaining, starts, throttle, tuple(reasons), stuck, measured)
        return replace(out, wants_measurement=wants, wants_zero_scan=scan)
    # unknown zero pages: any of what is left may be zero; a sample of 256 pages is ±6 %
    low_send = (remaining * (1 - ZERO_SHARE_MAX) if math.isnan(zeros) else
                remaining * (1 - min(ZERO_SHARE_MAX, zeros + 0.06))) if first_pass else to_send
    high_send = remaining * (1 - max(0.0, zeros - 0.06)) if first_pass and math.isfinite(zeros) else remaining
    low = simulate(low_send, elapsed, bw_high if bw_high > bw else bw * 1.1, threshold, fp.scaled(0.9))
    # a one-second page-sampling reads whole MB/s from a sample: up to a quarter low
    high = simulate(high_send, elapsed, bw_low if 0 < bw_low < bw else bw * 0.9, threshold,
                    fp.scaled(1.3 if measured else 1.5))
    down = outlook.final_bytes / bw
    reasons.append(("passes to go", str(outlook.passes)))
    eta = outlook.seconds + down + FINISH_S
    if first_pass:
        verdict, lead = Verdict.FIRST_PASS, "first pass; "
    elif _passes_agree(starts):
        verdict, lead = Verdict.CONVERGING, ""
    else:  # the word says it: the ETA of one pass, not yet a promise
        verdict, lead = Verdict.ESTIMATING, ""
        reasons.append(("confidence", "from one pass; 'converging' once two pass starts agree"))
    summary = (f"{lead}switchover in {_fmt_s(outlook.seconds)}"
               f" after {outlook.passes + 1} more pass{'es' if outlook.passes else ''}")
    return Forecast(verdict, summary, eta=eta,
                    eta_low=min(eta, low.seconds + low.final_bytes / bw) if low.converges else eta,
                    eta_high=(max(eta, high.seconds + high.final_bytes / bw + 2 * FINISH_S)
                              if high.converges else math.inf),
                    switchover_in=outlook.seconds, downtime_ms=down * 1000, downtime_limit_ms=limit,
                    reasons=tuple(reasons), advice=(_cancel(),), wants_measurement=wants,
                    wants_zero_scan=scan)


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


def _stuck(run: Run, starts: list[PassStart], ratio: float) -> tuple[str, str]:
    """("stalled" | "model" | "", why): passes stopped making new lows, or the model
    says so at two pass starts in a row (or at one whose start was no lower than the last)."""
    later = [s for s in starts if s.sync >= 2]
    stalled = stalled_pass(starts) is not None
    if len(later) < 2:
        return ("stalled", "no new low at the last pass starts") if stalled else ("", "")
    last, prev = later[-1], later[-2]
    why = (f"pass {last.sync} started at {units.format_bytes(last.remaining)}, "
           f"pass {prev.sync} at {units.format_bytes(prev.remaining)}")
    flat = last.remaining >= FLAT * prev.remaining
    prev_bw = run.bandwidth(prev.index)[0] if prev.index > 0 else math.nan
    prev_ratio = prev.dirty_rate / prev_bw if prev_bw > 0 else 0.0
    if ratio >= NOT_CONVERGING_RATIO and (flat or prev_ratio >= NOT_CONVERGING_RATIO):
        return "model", why
    return ("stalled", f"no new low at the last pass starts: {why}") if stalled else ("", why)


def _not_converging(ctx: Context, fp: Footprint, bw: float, remaining: float,
                    starts: list[PassStart], throttle: float, reasons: tuple[tuple[str, str], ...],
                    stuck: str, measured: bool = True) -> Forecast:
    """Confirmed (``stuck``): not-converging, stalled or throttling; else only at risk."""
    later = [s.remaining for s in starts if s.sync >= 2 and math.isfinite(s.remaining)][-3:] \
        or [remaining]  # a pass start whose sample lacked 'remaining' says nothing of the hot set
    hot = max(later)  # a sample comes after its sync: the largest is the closest to the whole set
    need_ms = _round_up_ms(hot / bw * 1000 * 1.2)
    limit = ctx.downtime_limit_ms
    why = f"guest dirties {units.format_rate(fp.rate)}, link carries {units.format_rate(bw)}"
    reasons += (("downtime needed", f"{units.format_ms(need_ms)} to send "
                                    f"{units.format_bytes(hot)} at once"),)
    auto = ctx.capabilities.get("auto-converge")
    if ctx.capabilities.get("dirty-limit"):
        limit_text = (f"{ctx.vcpu_dirty_limit:g} MB/s per vCPU" if not math.isnan(ctx.vcpu_dirty_limit)
                      else "its vcpu-dirty-limit")
        why += f" (dirty-limit holds vCPUs to {limit_text})"
        reasons += (("dirty-limit", f"on, {limit_text}"),)
    burst = bursty(starts, ctx.measurements)
    if not stuck:
        verdict = Verdict.AT_RISK
        summary = f"{why}; the next pass will tell"
    elif burst is not None and stuck == "model":
        verdict = Verdict.AT_RISK
        summary = (f"the guest writes in bursts ({units.format_rate(burst[0])}–"
                   f"{units.format_rate(burst[1])}): a pass that lands in a quiet spell ends it, one "
                   "that does not goes round again")
    elif auto and (math.isnan(throttle) or throttle < ctx.throttle_max):
        verdict = Verdict.THROTTLING
        summary = (f"auto-converge will throttle the guest: {why}" if math.isnan(throttle) else
                   f"auto-converge throttles the guest ({throttle:.0f} % of max "
                   f"{ctx.throttle_max:.0f} %): {why}")
    else:
        verdict = Verdict.STALLED if stuck == "stalled" else Verdict.NOT_CONVERGING
        summary = why
        if auto:
            summary += f" (throttle already at its max {ctx.throttle_max:.0f} %)"
    return Forecast(verdict, summary, eta=None, eta_high=math.inf, downtime_ms=need_ms,
                    downtime_limit_ms=limit, reasons=reasons,
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
        out.append(Advice(AdviceAction.POSTCOPY, "switch to postcopy",
                          "the guest runs on the destination at once; pages follow on demand"))
    if need_ms > ctx.downtime_limit_ms:
        out.append(Advice(AdviceAction.SET_PARAMETER, f"raise downtime-limit to {units.format_ms(need_ms)}",
                          "the hot set then fits in one stop-and-copy", "downtime-limit",
                          f"{int(need_ms)}ms"))
    cap = ctx.max_bandwidth
    target = _round_up(fp.rate * 1.5, MiB)
    if not math.isnan(cap) and cap > 0 and bw >= 0.8 * cap and target > cap:
        uncertain = not measured
        out.append(Advice(AdviceAction.SET_PARAMETER,
                          f"raise max-bandwidth to {units.format_rate(target)}"
                          + (" (uncertain)" if uncertain else ""),
                          f"the link runs at its cap {units.format_rate(cap)}; the guest dirties "
                          + (f"at least {units.format_rate(fp.rate)} (it may dirty faster as more is "
                             "sent: measure with D first)" if uncertain else units.format_rate(fp.rate)),
                          "max-bandwidth", units.format_size_input(target), uncertain=uncertain))
    if "set-vcpu-dirty-limit" in ctx.commands and ctx.kvm:
        per = max(1, int(bw * 0.5 / MiB))
        out.append(Advice(AdviceAction.DIRTY_LIMIT, f"limit vCPU dirty rate to {per} MB/s",
                          "needs KVM's dirty ring; QEMU says so when it is off",
                          "dirty-rate", per))
    out.append(_cancel())
    return tuple(out)


def _round_up(value: float, step: float) -> int:
    return int(math.ceil(value / step) * step)


def _round_up_ms(ms: float) -> float:
    return float(_round_up(ms, 100 if ms < 2000 else 500))


def _cancel() -> Advice:
    return Advice(AdviceAction.CANCEL, "cancel the migration", "the guest keeps running on the source")


def _measure(ctx: Context) -> Advice | None:
    if "calc-dirty-rate" not in ctx.commands:
        return None
    return Advice(AdviceAction.MEASURE, "measure the dirty rate now",
                  "calc-dirty-rate (page-sampling) tells how fast the guest dirties memory")


# -- before a migration ------------------------------------------------------------


def preflight(ctx: Context) -> Forecast:
    """Before starting: can precopy converge with this dirty rate and bandwidth cap?"""
    fp = Footprint.fit((s, r * s) for s, r in ctx.measurements)
    cap = ctx.max_bandwidth
    if fp is None:
        return Forecast(Verdict.IDLE, "no migration running")
    reasons = [("guest dirties", units.format_rate(fp.rate)
                + (f", hot set {units.format_bytes(fp.cap)}" if math.isfinite(fp.cap) else "")),
               ("max-bandwidth", units.format_rate(cap) if not math.isnan(cap) else "unknown")]
    if math.isnan(cap) or cap <= 0:
        return Forecast(Verdict.PREFLIGHT, f"guest dirties {units.format_rate(fp.rate)}",
                        reasons=tuple(reasons))
    threshold = cap * ctx.downtime_limit_ms / 1000
    ok = fp.rate < NOT_CONVERGING_RATIO * cap or fp.cap <= threshold
    advice: list[Advice] = []
    if ok:
        summary = (f"precopy can converge: guest dirties {units.format_rate(fp.rate)}, "
                   f"max-bandwidth {units.format_rate(cap)}")
    else:
        summary = (f"precopy will not converge: guest dirties {units.format_rate(fp.rate)}, "
                   f"max-bandwidth {units.format_rate(cap)}")
        target = _round_up(fp.rate * 1.5, MiB)
        advice.append(Advice(AdviceAction.SET_PARAMETER,
                             f"raise max-bandwidth to {units.format_rate(target)}",
                             "if the link can carry it", "max-bandwidth", units.format_size_input(target)))
        for cap_name, why in (("postcopy-ram", "lets you switch to postcopy when precopy stalls"),
                              ("auto-converge", "throttles the guest's vCPUs until it converges"),
                              ("dirty-limit", "caps each vCPU's dirty rate (needs KVM dirty ring)")):
            if cap_name in ctx.capabilities and not ctx.capabilities[cap_name]:
                advice.append(Advice(AdviceAction.CAPABILITY, f"turn on {cap_name} first", why,
                                     cap_name, True))
    return Forecast(Verdict.PREFLIGHT, summary, reasons=tuple(reasons), advice=tuple(advice))


# -- postcopy -------------------------------------------------------------------------


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


def _postcopy(run: Run, ctx: Context) -> Forecast:
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
    reasons = [("left", units.format_bytes(remaining)), ("background rate", units.format_rate(rate))]
    if cap > 0:
        reasons.append(("max-postcopy-bandwidth", units.format_rate(cap)))
    if not math.isnan(req_rate):
        reasons.append(("page requests", f"{req_rate:.0f}/s"))
    if not math.isnan(ctx.blocktime_ms):
        reasons.append(("vCPU blocktime", units.format_ms(ctx.blocktime_ms)))
    hurts = ctx.fault_latency_ns >= HURTING_FAULT_NS  # False for nan
    if not math.isnan(ctx.fault_latency_ns):
        reasons.append(("mean fault wait", units.format_ns(ctx.fault_latency_ns)))
    if math.isnan(rate) or rate < MIN_BANDWIDTH or math.isnan(remaining):
        return Forecast(Verdict.POSTCOPY, "nothing moving; the guest waits for pages",
                        reasons=tuple(reasons), advice=(_pause(),))
    eta = remaining / rate + FINISH_S
    summary = f"{units.format_bytes(remaining)} left at {units.format_rate(rate)}"
    if not math.isnan(req_rate):
        summary += f"; {req_rate:.0f} page requests/s"
    if hurts:
        summary += f"; the guest waits {units.format_ns(ctx.fault_latency_ns)} a page fault"
    # no faster than half again the rate seen (page requests come on top of the cap, and the
    # last pages go at once); the end keeps the finishing time: the range never shrinks to a point
    fast = min(1.5 * rate, 1.5 * cap) if cap > 0 else 1.5 * rate
    slow = 0.6 * rate
    advice = (_more_postcopy_bandwidth(cap),) if hurts and cap > 0 else ()  # else healthy: nothing
    return Forecast(Verdict.POSTCOPY, summary, eta=eta,
                    eta_low=min(eta, remaining / max(fast, rate)), eta_high=remaining / slow + 3 * FINISH_S,
                    reasons=tuple(reasons), advice=advice, hurting=hurts)


def _more_postcopy_bandwidth(cap: float) -> Advice:
    target = _round_up(2 * cap, MiB)
    return Advice(AdviceAction.SET_PARAMETER, f"raise max-postcopy-bandwidth to {units.format_rate(target)}",
                  "the guest's page faults wait behind the capped stream", "max-postcopy-bandwidth",
                  units.format_size_input(target))


def _pause() -> Advice:
    return Advice(AdviceAction.PAUSE, "pause postcopy", "stops the stream; recover it later on a new link")


def _paused(status: str, ctx: Context) -> Forecast:
    if status in RECOVERING or ctx.destination_status in RECOVERING:
        return Forecast(Verdict.RECOVERING, "waiting for the new link")
    side = ctx.failed_side or "the link"
    text = f"{side} failed" if side != "the link" else "the link failed"
    if ctx.paused_by_operator:
        text = "paused on purpose (migrate-pause)"
    elif ctx.error:
        text += f": {ctx.error}"
    steps = ("make the network between the hosts work again",
             "on the destination: migrate-recover with a new listening URI",
             "on the source, once it is postcopy-paused too: migrate with resume=true to that URI",
             "press r to do both from here")
    return Forecast(Verdict.PAUSED, text, steps=steps,
                    advice=(Advice(AdviceAction.RECOVER, "recover the postcopy",
                                   "migrate-recover on the destination, then migrate resume"),))


def _ended(status: str, ctx: Context) -> Forecast:
    if status == "failed":
        return Forecast(Verdict.FAILED, ctx.error or "QEMU gave no reason here")
    return Forecast(Verdict(status), "")
