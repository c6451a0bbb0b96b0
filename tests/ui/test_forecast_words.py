"""The forecast's facts in words: the UI is the one place that writes them out."""

from __future__ import annotations

import math

from qmigtui.analysis.footprint import reconcile
from qmigtui.analysis.verdict import Advice, AdviceAction, Cause, Facts, Forecast, Verdict
from qmigtui.ui.forecast_words import (
    eta_text,
    readings_text,
    reasons,
    recovery_steps,
    remedy_label,
    remedy_why,
    summary,
)

MiB = 1 << 20


def test_each_cause_is_worded_with_its_numbers():
    def said(verdict: Verdict, cause: Cause, **facts: object) -> str:
        return summary(Forecast(verdict, cause, Facts(**facts)))  # type: ignore[arg-type]
    assert said(Verdict.FIRST_PASS, Cause.FIRST_PASS, remaining=64 * MiB, first_pass_left_s=3.0,
                measuring=True) == ("64.0 MiB to go, first pass ends in ~3.0 s; dirty rate known "
                                    "after it (measuring it now)")
    assert said(Verdict.AT_RISK, Cause.DIRTY_OUTRUNS_LINK, dirty_rate=40 * MiB, bandwidth=20 * MiB) == (
        "guest dirties 40.0 MiB/s, link carries 20.0 MiB/s; the next pass will tell")
    assert said(Verdict.NOT_CONVERGING, Cause.DIRTY_OUTRUNS_LINK, dirty_rate=40 * MiB,
                bandwidth=20 * MiB, auto_converge=True, throttle_max=99.0).endswith(
        "(throttle already at its max 99 %)")
    assert "dirty-limit holds vCPUs to 1 MB/s per vCPU" in said(
        Verdict.NOT_CONVERGING, Cause.DIRTY_OUTRUNS_LINK, dirty_rate=40 * MiB, bandwidth=20 * MiB,
        dirty_limit_on=True, vcpu_dirty_limit=1.0)
    assert "40 % of max 99 %" in said(Verdict.THROTTLING, Cause.AUTO_CONVERGE, dirty_rate=40 * MiB,
                                      bandwidth=20 * MiB, throttle=40.0, throttle_max=99.0)
    assert said(Verdict.PAUSED, Cause.LINK_FAILED, failed_side="destination",
                error="Connection reset by peer") == "destination failed: Connection reset by peer"
    assert said(Verdict.PAUSED, Cause.PAUSED_BY_OPERATOR) == "paused on purpose (migrate-pause)"
    assert said(Verdict.SWITCHOVER, Cause.MANAGER_CONTINUES, status="device", manager="libvirt") == (
        "at device: libvirt continues to switchover")
    assert said(Verdict.PREFLIGHT, Cause.PREFLIGHT_WILL_NOT, dirty_rate=40 * MiB,
                max_bandwidth=20 * MiB).startswith("precopy will not converge")
    assert said(Verdict.SWITCHOVER, Cause.WAITS_AT_SWITCHOVER, status="pre-switchover") == (
        "QEMU waits at pre-switchover: press n to continue")
    assert "50 page requests/s" in said(Verdict.POSTCOPY, Cause.POSTCOPY_LEFT, remaining=MiB,
                                        postcopy_rate=MiB, page_request_rate=50.0)
    for cause in Cause:  # every cause has words (an ended migration needs none)
        text = said(Verdict.IDLE, cause)
        assert (text != str(cause) or cause is Cause.CANCELLING) and (text or cause is Cause.ENDED), cause


def test_the_numbers_used_are_listed_by_what_they_are():
    f = Forecast(Verdict.POSTCOPY, Cause.POSTCOPY_LEFT,
                 Facts(remaining=MiB, postcopy_rate=MiB, blocktime_ms=12.0, fault_wait_ns=16_761_320))
    assert ("vCPU blocktime", "12 ms") in reasons(f)
    assert ("mean fault wait", "16.8 ms") in reasons(f)
    limited = Forecast(Verdict.NOT_CONVERGING, Cause.DIRTY_OUTRUNS_LINK,
                       Facts(bandwidth=20 * MiB, bandwidth_low=19 * MiB, bandwidth_high=21 * MiB,
                             remaining=64 * MiB, dirty_rate=40 * MiB, hot_bytes=64 * MiB,
                             dirty_limit_on=True, vcpu_dirty_limit=1.0), downtime_ms=3900.0,
                       downtime_limit_ms=300.0)
    assert ("dirty-limit", "on, 1 MB/s per vCPU") in reasons(limited)
    assert ("downtime needed", "3.9 s to send 64.0 MiB at once") in reasons(limited)


def test_remedies_are_worded_from_their_action_and_arguments():
    f = Forecast(Verdict.NOT_CONVERGING, Cause.DIRTY_OUTRUNS_LINK,
                 Facts(dirty_rate=40 * MiB, max_bandwidth=20 * MiB))
    more = Advice(AdviceAction.SET_PARAMETER, "max-bandwidth", "60M", float(60 * MiB), uncertain=True)
    assert remedy_label(more) == "raise max-bandwidth to 60.0 MiB/s (uncertain)"
    assert "measure with D first" in remedy_why(more, f)
    assert remedy_label(Advice(AdviceAction.SET_PARAMETER, "downtime-limit", "2500ms", 2500.0)) == (
        "raise downtime-limit to 2.5 s")
    assert remedy_label(Advice(AdviceAction.CAPABILITY, "postcopy-ram", True)) == "turn on postcopy-ram first"
    for action in AdviceAction:
        assert remedy_label(Advice(action)) and remedy_why(Advice(action, "postcopy-ram"), f), action


def test_eta_steps_and_readings():
    f = Forecast(Verdict.CONVERGING, Cause.SWITCHOVER_IN, eta=42.0, eta_low=35.0, eta_high=math.inf)
    assert eta_text(f) == "ETA 42.0 s (35.0 s–never)"
    paused = Forecast(Verdict.PAUSED, Cause.LINK_FAILED)
    assert recovery_steps(paused, {"recover": "R"}.__getitem__)[-1] == "press R to do both from here"
    assert recovery_steps(f) == []
    hot = readings_text(reconcile([(1, 120 * MiB), (2, 65 * MiB), (30, 4 * MiB)]))
    assert hot.startswith("the guest dirties about 120 MiB/s over short windows, on a hot set of about")
    assert readings_text(reconcile([(1, 12 * MiB), (2, 12 * MiB)])).startswith(
        "the guest dirties about 12.0 MiB/s, steady")
    assert readings_text(None) == ""
