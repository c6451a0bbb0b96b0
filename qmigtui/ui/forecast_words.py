"""The forecast in words: its facts worded for the status pane, the detail view and the
remedies' dialogs.  The analysis returns facts; this is the one place that writes them out
(and names keys)."""

from __future__ import annotations

import math
from collections.abc import Callable

from qmigtui.analysis.footprint import Readings, WindowShape, reconcile
from qmigtui.analysis.verdict import Advice, AdviceAction, Cause, Facts, Forecast, Verdict
from qmigtui.model import units

KeyFor = Callable[[str], str]  # a binding id -> the key in force (the app's key_for)
DEFAULT_KEYS = {"continue": "n", "recover": "r", "measure": "D"}


def default_key(binding_id: str) -> str:
    return DEFAULT_KEYS.get(binding_id, binding_id)


CAPABILITY_WHY = {
    "postcopy-ram": "lets you switch to postcopy when precopy stalls",
    "auto-converge": "throttles the guest's vCPUs until it converges",
    "dirty-limit": "caps each vCPU's dirty rate (needs KVM dirty ring)",
}


def seconds(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "?"
    if math.isinf(value):
        return "never"
    return units.format_ms(value * 1000)


def eta_text(f: Forecast) -> str:
    """``ETA 42 s (35 s–51 s)`` or empty."""
    if f.eta is None:
        return ""
    text = f"ETA {seconds(f.eta)}"
    if f.eta_low is not None and f.eta_high is not None:
        text += f" ({seconds(f.eta_low)}–{seconds(f.eta_high)})"
    return text


def _outruns(x: Facts) -> str:
    why = f"guest dirties {units.format_rate(x.dirty_rate)}, link carries {units.format_rate(x.bandwidth)}"
    if x.dirty_limit_on:
        why += f" (dirty-limit holds vCPUs to {_dirty_limit(x)})"
    return why


def _dirty_limit(x: Facts) -> str:
    return (f"{x.vcpu_dirty_limit:g} MB/s per vCPU" if not math.isnan(x.vcpu_dirty_limit)
            else "its vcpu-dirty-limit")


def summary(f: Forecast, key_for: KeyFor = default_key) -> str:
    """The verdict's one line."""
    x, cause = f.facts, f.cause
    simple = {
        Cause.NO_MIGRATION: "no migration running", Cause.GATHERING: "gathering samples",
        Cause.CANCELLING: "cancelling", Cause.ENDED: "",
        Cause.FAILING: x.error or "failing: QEMU is cleaning up",
        Cause.FAILED: x.error or "QEMU gave no reason here",
        Cause.LINK_IDLE: "nothing sent for seconds: is the link up?",
        Cause.MANAGER_CONTINUES: f"at {x.status}: {x.manager or 'its manager'} continues to switchover",
        Cause.WAITS_AT_SWITCHOVER: f"QEMU waits at {x.status}: press {key_for('continue')} to continue",
        Cause.WAIT_UNPLUG: "waiting for the guest to unplug its failover NIC",
        Cause.POSTCOPY_IDLE: "nothing moving; the guest waits for pages",
        Cause.PAUSED_BY_OPERATOR: "paused on purpose (migrate-pause)",
        Cause.RECOVERING: "waiting for the new link",
        Cause.PREFLIGHT_RATE: f"guest dirties {units.format_rate(x.dirty_rate)}",
    }
    if cause in simple:
        return simple[cause]
    if cause is Cause.FIRST_PASS:
        left = seconds(x.first_pass_left_s)
        return (f"{units.format_bytes(x.remaining)} to go, first pass ends in ~{left}; "
                "dirty rate known after it" + (" (measuring it now)" if x.measuring else ""))
    if cause is Cause.SWITCHOVER_IN:
        lead = "first pass; " if f.verdict is Verdict.FIRST_PASS else ""
        return (f"{lead}switchover in {seconds(x.switchover_in_s)} after {x.passes_to_go + 1} more "
                f"pass{'es' if x.passes_to_go else ''}")
    if cause is Cause.DIRTY_OUTRUNS_LINK:
        if f.verdict is Verdict.AT_RISK:
            return f"{_outruns(x)}; the next pass will tell"
        return _outruns(x) + (f" (throttle already at its max {x.throttle_max:.0f} %)"
                              if x.auto_converge else "")
    if cause is Cause.BURSTS:
        return (f"the guest writes in bursts ({units.format_rate(x.burst_low)}–"
                f"{units.format_rate(x.burst_high)}): a pass that lands in a quiet spell ends it, one "
                "that does not goes round again")
    if cause is Cause.AUTO_CONVERGE:
        if math.isnan(x.throttle):
            return f"auto-converge will throttle the guest: {_outruns(x)}"
        return (f"auto-converge throttles the guest ({x.throttle:.0f} % of max {x.throttle_max:.0f} %): "
                f"{_outruns(x)}")
    if cause in (Cause.PREFLIGHT_CONVERGES, Cause.PREFLIGHT_WILL_NOT):
        word = "can converge" if cause is Cause.PREFLIGHT_CONVERGES else "will not converge"
        return (f"precopy {word}: guest dirties {units.format_rate(x.dirty_rate)}, "
                f"max-bandwidth {units.format_rate(x.max_bandwidth)}")
    if cause is Cause.POSTCOPY_LEFT:
        text = f"{units.format_bytes(x.remaining)} left at {units.format_rate(x.postcopy_rate)}"
        if not math.isnan(x.page_request_rate):
            text += f"; {x.page_request_rate:.0f} page requests/s"
        if f.hurting:
            text += f"; the guest waits {units.format_ns(x.fault_wait_ns)} a page fault"
        return text
    if cause is Cause.LINK_FAILED:
        text = f"{x.failed_side} failed" if x.failed_side else "the link failed"
        return text + (f": {x.error}" if x.error else "")
    return str(cause)


def _hot_set(x: Facts) -> str:
    return f", hot set {units.format_bytes(x.hot_set)}" if math.isfinite(x.hot_set) else ""


def _headway(x: Facts) -> str:
    starts = (f"pass {x.last_start_pass} started at {units.format_bytes(x.last_start_remaining)}, "
              f"pass {x.prev_start_pass} at {units.format_bytes(x.prev_start_remaining)}"
              if x.last_start_pass else "")
    if x.no_new_low:
        return "no new low at the last pass starts" + (f": {starts}" if starts else "")
    return starts


def reasons(f: Forecast) -> list[tuple[str, str]]:
    """The numbers used, for the detail view: (label, value) in the order they were used."""
    x = f.facts
    out: list[tuple[str, str]] = []
    if f.verdict is Verdict.PREFLIGHT:
        out.append(("guest dirties", units.format_rate(x.dirty_rate) + _hot_set(x)))
        out.append(("max-bandwidth", units.format_rate(x.max_bandwidth)
                    if not math.isnan(x.max_bandwidth) else "unknown"))
        return out
    if f.cause is Cause.LINK_IDLE:
        return [("bandwidth", units.format_rate(x.bandwidth))]
    if not math.isnan(x.postcopy_rate):
        out += [("left", units.format_bytes(x.remaining)),
                ("background rate", units.format_rate(x.postcopy_rate))]
        for label, value, fmt in (("max-postcopy-bandwidth", x.max_postcopy_bandwidth, units.format_rate),
                                  ("page requests", x.page_request_rate, lambda v: f"{v:.0f}/s"),
                                  ("vCPU blocktime", x.blocktime_ms, units.format_ms),
                                  ("mean fault wait", x.fault_wait_ns, units.format_ns)):
            if not math.isnan(value):
                out.append((label, fmt(value)))
        return out
    if math.isnan(x.bandwidth):
        return out
    out += [("bandwidth", f"{units.format_rate(x.bandwidth)} ({units.format_rate(x.bandwidth_low)}–"
                          f"{units.format_rate(x.bandwidth_high)})"),
            ("remaining", units.format_bytes(x.remaining)),
            ("switchover at", f"< {units.format_bytes(x.switchover_below)} (bandwidth × downtime-limit "
                              f"{units.format_ms(f.downtime_limit_ms or math.nan)})"),
            ("pass", f"{x.pass_number}, {seconds(x.pass_elapsed_s)} in")]
    if not math.isnan(x.dirty_rate):
        out.append(("guest dirties", units.format_rate(x.dirty_rate)
                    + (" at least (from the passes: a lower bound)" if x.dirty_rate_is_lower_bound else "")
                    + _hot_set(x)))
    if not math.isnan(x.throttle):
        out.append(("cpu throttle", f"{x.throttle:.0f} % of max {x.throttle_max:.0f} %"))
    if math.isfinite(x.zeros_left):
        out.append(("zero pages left", f"{x.zeros_left * 100:.0f} % of what the first pass has to go "
                                       f"(sent almost free): about {units.format_bytes(x.to_send)} "
                                       f"to send; {x.zero_share * 100:.0f} % of guest RAM"))
    if not math.isnan(x.dirty_ratio):
        out.append(("dirty / bandwidth", f"{x.dirty_ratio:.2f}"))
    if headway := _headway(x):
        out.append(("headway", headway))
    if not math.isnan(x.hot_bytes) and f.downtime_ms is not None:
        out.append(("downtime needed", f"{units.format_ms(f.downtime_ms)} to send "
                                       f"{units.format_bytes(x.hot_bytes)} at once"))
        if x.dirty_limit_on:
            out.append(("dirty-limit", f"on, {_dirty_limit(x)}"))
    if f.cause is Cause.SWITCHOVER_IN:
        out.append(("passes to go", str(x.passes_to_go)))
        if x.one_pass_only:
            out.append(("confidence", "from one pass; 'converging' once two pass starts agree"))
    return out


def remedy_label(a: Advice) -> str:
    """What a remedy does, in a few words."""
    if a.action is AdviceAction.SET_PARAMETER:
        amount = units.format_ms(a.amount) if a.target == "downtime-limit" else units.format_rate(a.amount)
        return f"raise {a.target} to {amount}" + (" (uncertain)" if a.uncertain else "")
    if a.action is AdviceAction.CAPABILITY:
        return f"turn on {a.target} first"
    if a.action is AdviceAction.DIRTY_LIMIT:
        return f"limit vCPU dirty rate to {a.value} MB/s"
    return {AdviceAction.POSTCOPY: "switch to postcopy", AdviceAction.CANCEL: "cancel the migration",
            AdviceAction.MEASURE: "measure the dirty rate now",
            AdviceAction.CONTINUE: "continue to switchover", AdviceAction.PAUSE: "pause postcopy",
            AdviceAction.RECOVER: "recover the postcopy"}.get(a.action, str(a.action))


def remedy_why(a: Advice, f: Forecast, key_for: KeyFor = default_key) -> str:
    """Why a remedy would help here."""
    x = f.facts
    if a.action is AdviceAction.SET_PARAMETER:
        if a.target == "downtime-limit":
            return "the hot set then fits in one stop-and-copy"
        if a.target == "max-postcopy-bandwidth":
            return "the guest's page faults wait behind the capped stream"
        if f.verdict is Verdict.PREFLIGHT:
            return "if the link can carry it"
        rate = units.format_rate(x.dirty_rate)
        return (f"the link runs at its cap {units.format_rate(x.max_bandwidth)}; the guest dirties "
                + (f"at least {rate} (it may dirty faster as more is sent: measure with "
                   f"{key_for('measure')} first)" if a.uncertain else rate))
    if a.action is AdviceAction.CAPABILITY:
        return CAPABILITY_WHY.get(a.target, "")
    return {AdviceAction.POSTCOPY: "the guest runs on the destination at once; pages follow on demand",
            AdviceAction.CANCEL: "the guest keeps running on the source",
            AdviceAction.MEASURE: "calc-dirty-rate (page-sampling) tells how fast the guest dirties memory",
            AdviceAction.DIRTY_LIMIT: "needs KVM's dirty ring; QEMU says so when it is off",
            AdviceAction.CONTINUE: "pause-before-switchover is on and QEMU waits",
            AdviceAction.PAUSE: "stops the stream; recover it later on a new link",
            AdviceAction.RECOVER: "migrate-recover on the destination, then migrate resume"}.get(a.action, "")


def recovery_steps(f: Forecast, key_for: KeyFor = default_key) -> list[str]:
    """A paused postcopy's way back, in words (empty for any other verdict)."""
    if f.verdict is not Verdict.PAUSED:
        return []
    return ["make the network between the hosts work again",
            "on the destination: migrate-recover with a new listening URI",
            "on the source, once it is postcopy-paused too: migrate with resume=true to that URI",
            f"press {key_for('recover')} to do both from here"]


def readings_text(readings: Readings | None) -> str:
    """Dirty-rate readings over several windows as one estimate and why they differ."""
    if readings is None:
        return ""
    fp = readings.footprint
    listed = ", ".join(f"{units.format_rate(r)} over {s:g} s" for s, r in readings.points)
    rate = units.format_rate(fp.rate)
    if readings.shape is WindowShape.NOTHING:
        return f"the guest dirtied nothing the samples saw ({listed})"
    if readings.shape is WindowShape.STEADY:
        return f"the guest dirties about {rate}, steady over every window ({listed})"
    if readings.shape is WindowShape.BURSTS:
        return (f"the guest dirties in bursts of up to {rate}: a window that missed a burst reads "
                f"less ({listed}); count on about {units.format_bytes(fp.cap)} dirty per pass")
    return (f"the guest dirties about {rate} over short windows, on a hot set of about "
            f"{units.format_bytes(fp.cap)}: longer windows see the same pages again ({listed})")


def explain(windows: list[tuple[float, float]]) -> str:
    """``readings_text`` of raw ``(window seconds, bytes/s)`` readings."""
    return readings_text(reconcile(windows))
