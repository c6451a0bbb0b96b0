"""Verdicts, ETA and advice on synthetic series (no QEMU, no Textual)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qmigtui.analysis.footprint import Footprint, simulate
from qmigtui.analysis.forecast import FINISH_S, forecast
from qmigtui.analysis.run import Run
from qmigtui.analysis.stall import reference_stall_time, stalled_pass
from qmigtui.analysis.verdict import Cause, Context
from tests.analysis.synthetic import PAGE, MiB, history, precopy, sample

CMDS = frozenset({"calc-dirty-rate", "set-vcpu-dirty-limit"})


def run_forecasts(samples, **ctx):
    """The forecast after every sample, as the watcher makes them."""
    h = history([])
    out = []
    for s in samples:
        h.append(s)
        out.append((s["t"], forecast(h, Context(status=s.status, **ctx))))
    return out


def test_footprint_fit_finds_the_rate_and_the_hot_set():
    fp = Footprint.fit([(1, 10 * MiB), (5, 30 * MiB)])
    assert fp.rate == 10 * MiB and fp.cap == 30 * MiB
    assert Footprint.fit([(1, 10 * MiB), (2, 20 * MiB)]).cap == math.inf
    assert Footprint.fit([]) is None
    assert Footprint.fit([(0, 5), (math.nan, 1)]) is None


def test_simulate_converges_below_bandwidth_and_not_at_a_fixed_point():
    assert simulate(100 * MiB, 0, 20 * MiB, 6 * MiB, Footprint(10 * MiB)).converges
    stuck = simulate(100 * MiB, 0, 20 * MiB, 6 * MiB, Footprint(40 * MiB, 64 * MiB))
    assert not stuck.converges and stuck.seconds == math.inf
    small_hot_set = simulate(100 * MiB, 0, 20 * MiB, 6 * MiB, Footprint(40 * MiB, 4 * MiB))
    assert small_hot_set.converges
    assert not simulate(1, 0, 0, 0, Footprint(1)).converges  # zero bandwidth


def test_converging_run_gives_an_eta_within_15_percent_at_the_midpoint_and_no_false_alarm():
    samples, done = precopy(256 * MiB, 64 * MiB, 12 * MiB, 20 * MiB)
    assert done is not None
    start = samples[0]["t"] - 1
    measured = ((1.0, 12 * MiB), (13.0, 64 * MiB / 13))  # a short window and one a first pass long
    forecasts = run_forecasts(samples, measurements=measured, commands=CMDS)
    verdicts = {f.verdict for _, f in forecasts}
    assert not verdicts & {"not-converging", "stalled", "at-risk"}
    mid = start + (done - start) / 2
    t, f = next((t, f) for t, f in reversed(forecasts) if t <= mid)
    left = done - t
    assert f.eta is not None and abs(f.eta - left) / left <= 0.15, (f.eta, left)
    assert f.eta_low <= f.eta <= f.eta_high
    assert f.cause == Cause.SWITCHOVER_IN and f.facts.passes_to_go >= 0
    assert f.downtime_ms <= 300


def test_first_pass_without_a_measurement_says_when_the_pass_ends_and_offers_to_measure():
    samples, _ = precopy(256 * MiB, 64 * MiB, 12 * MiB, 20 * MiB, seconds=5)
    f = run_forecasts(samples, commands=CMDS)[-1][1]
    assert f.verdict == "first-pass" and f.eta is None and f.wants_measurement
    assert f.cause == Cause.FIRST_PASS and f.facts.first_pass_left_s > 0 and f.facts.measuring
    assert [a.action for a in f.advice] == ["measure", "cancel"]


def test_guest_faster_than_link_is_not_converging_with_numbers_and_remedies():
    samples, done = precopy(256 * MiB, 64 * MiB, 40 * MiB, 20 * MiB, seconds=60)
    assert done is None
    forecasts = run_forecasts(samples, max_bandwidth=20 * MiB, commands=CMDS, kvm=True,
                              capabilities={"postcopy-ram": True}, measurements=((1.0, 40 * MiB),))
    first = next(t for t, f in forecasts if f.verdict == "not-converging") - samples[0]["t"] + 1
    assert first < 25  # by the third pass start
    f = forecasts[-1][1]
    assert f.verdict == "not-converging" and f.converging is False
    assert f.cause == Cause.DIRTY_OUTRUNS_LINK and f.facts.dirty_rate > f.facts.bandwidth
    actions = [(a.action, a.target) for a in f.advice]
    assert actions == [("postcopy", ""), ("set-parameter", "downtime-limit"),  # p first: it always ends it
                       ("set-parameter", "max-bandwidth"), ("dirty-limit", "dirty-rate"), ("cancel", "")]
    assert f.first_remedy is not None and f.first_remedy.action == "postcopy"
    under_tcg = run_forecasts(samples, max_bandwidth=20 * MiB, commands=CMDS, kvm=False,
                              capabilities={"postcopy-ram": True},
                              measurements=((1.0, 40 * MiB),))[-1][1]
    assert "dirty-limit" not in [a.action for a in under_tcg.advice]  # no dirty ring without KVM
    downtime = next(a for a in f.advice if a.target == "downtime-limit")
    needed_ms = int(downtime.value.removesuffix("ms"))
    assert 64 * 1000 / 20 <= needed_ms <= 2 * 64 * 1000 / 20  # the hot set at link speed, with margin
    bandwidth = next(a for a in f.advice if a.target == "max-bandwidth")
    assert bandwidth.value == "60M"  # 1.5 x the dirty rate, whole MiB


def test_remedies_follow_what_is_possible():
    samples, _ = precopy(256 * MiB, 64 * MiB, 40 * MiB, 20 * MiB, seconds=40)
    # no postcopy-ram, no dirty-limit command, link well under its cap: only downtime and cancel
    f = run_forecasts(samples, max_bandwidth=100 * MiB)[-1][1]
    assert [a.action for a in f.advice] == ["set-parameter", "cancel"]
    # at its cap, with no measurement: passes show only a lower bound of the rate, still above the
    # cap, so more bandwidth is offered after the downtime limit and marked uncertain
    f = run_forecasts(samples, max_bandwidth=20 * MiB)[-1][1]
    assert [a.target for a in f.advice] == ["downtime-limit", "max-bandwidth", ""]
    more = f.advice[1]
    assert more.uncertain and more.amount > 20 * MiB and int(more.value.removesuffix("M")) > 20
    # never a cap at or below the one set (the link is already allowed more than the guest needs)
    f = run_forecasts(samples, max_bandwidth=20 * MiB, measurements=((1.0, 10 * MiB),))[-1][1]
    assert all(a.target != "max-bandwidth" or int(a.value.removesuffix("M")) > 20 for a in f.advice)


def test_a_rate_at_the_bandwidth_is_a_lower_bound_never_called_converging():
    """A guest rewriting a 64 MiB hot set at 57 MiB/s over a 32 MiB/s link: each pass re-sends
    the whole set, so the rate QEMU reports follows the pass length, not the guest."""
    samples, done = precopy(512 * MiB, 64 * MiB, 57 * MiB, 32 * MiB, seconds=40)
    assert done is None
    verdicts = [f.verdict for _, f in run_forecasts(samples, commands=CMDS)]
    assert "converging" not in verdicts
    later = [f for _, f in run_forecasts(samples, commands=CMDS)][20:]
    assert all(f.verdict in ("not-converging", "stalled", "at-risk") for f in later), later[0]
    measured = run_forecasts(samples, commands=CMDS, measurements=((1.0, 57 * MiB),))
    assert all(not f.wants_measurement for _, f in measured)
    assert measured[-1][1].verdict == "not-converging"


def test_converging_only_once_two_pass_starts_agree():
    samples, done = precopy(512 * MiB, 160 * MiB, 12 * MiB, 32 * MiB, seconds=60)
    assert done is not None
    forecasts = run_forecasts(samples, commands=CMDS)
    syncs = [s.values["dirty_sync_count"] for s in samples]
    pass2 = [f.verdict for (_, f), n in zip(forecasts, syncs, strict=False) if n == 2]
    assert pass2 and set(pass2) == {"estimating"}  # an ETA, not yet a promise
    assert any(f.verdict == "converging" for _, f in forecasts)  # once pass 3 started lower
    measured = run_forecasts(samples, commands=CMDS, measurements=((1.0, 12 * MiB),))
    assert {f.verdict for (_, f), n in zip(measured, syncs, strict=False) if n == 2} == {"estimating"}


def test_a_guest_writing_in_bursts_is_at_risk_not_called_not_converging():
    """Pass starts at the link's 32 MiB/s, but a measurement saw the guest quiet: a pass that
    lands in a quiet spell may end it, so it is at risk, not 'not converging'."""
    samples, done = precopy(512 * MiB, 96 * MiB, 40 * MiB, 32 * MiB, seconds=40)
    assert done is None
    steady = run_forecasts(samples, commands=CMDS, measurements=((1.0, 40 * MiB),))[-1][1]
    assert steady.verdict == "not-converging"
    quiet = run_forecasts(samples, commands=CMDS, measurements=((1.0, 0.0),))[-1][1]
    assert quiet.verdict == "at-risk" and quiet.cause == Cause.BURSTS
    assert quiet.facts.burst_low < quiet.facts.burst_high


def test_the_first_pass_eta_counts_zero_pages_as_almost_free():
    """A sample of guest RAM found half of it zero pages; 96 MiB of them were sent already:
    the first pass has the other 160 MiB still to go through almost free."""
    bw, ram = 32 * MiB, 512 * MiB
    samples = [sample(1000 + i, transferred=i * bw, remaining=ram - 2 * i * bw, total=ram,
                      dirty_sync_count=1, duplicate=i * bw / PAGE, normal=i * bw / PAGE)
               for i in range(1, 4)]
    cmds = CMDS | {"human-monitor-command"}
    unknown = run_forecasts(samples, commands=cmds, measurements=((1.0, 4 * MiB),))[-1][1]
    assert unknown.wants_zero_scan and unknown.eta_low < 0.2 * unknown.eta  # any of it may be zero
    f = run_forecasts(samples, commands=cmds, measurements=((1.0, 4 * MiB),), zero_share=0.5)[-1][1]
    assert f.verdict == "first-pass" and not f.wants_zero_scan
    left = (ram - 6 * bw) / 2 / bw + FINISH_S  # half of what is left is zero
    assert abs(f.eta - left) / left < 0.2, (f.eta, left)
    assert f.eta_low <= f.eta <= f.eta_high
    assert 0 < f.facts.zeros_left < 1 and f.facts.to_send < f.facts.remaining


def test_auto_converge_below_its_max_is_throttling_and_at_max_is_not_converging():
    kw = dict(capabilities={"auto-converge": True}, throttle_max=99)
    rising, _ = precopy(256 * MiB, 64 * MiB, 40 * MiB, 20 * MiB, seconds=40, throttle=40)
    f = run_forecasts(rising, **kw)[-1][1]
    assert f.verdict == "throttling" and f.cause == Cause.AUTO_CONVERGE
    assert (f.facts.throttle, f.facts.throttle_max) == (40, 99)
    maxed, _ = precopy(256 * MiB, 64 * MiB, 40 * MiB, 20 * MiB, seconds=40, throttle=99)
    f = run_forecasts(maxed, **kw)[-1][1]
    assert f.verdict == "not-converging" and f.facts.auto_converge
    assert f.facts.throttle == f.facts.throttle_max


def test_zero_bandwidth_is_a_stall_not_a_crash():
    samples = [sample(1000 + i, transferred=50 * MiB, remaining=200 * MiB, total=256 * MiB,
                      dirty_sync_count=1, dirty_pages_rate=0) for i in range(8)]
    f = run_forecasts(samples)[-1][1]
    assert f.verdict == "stalled" and f.cause == Cause.LINK_IDLE


def test_counters_reset_by_a_new_migration_start_a_new_run():
    old, _ = precopy(256 * MiB, 64 * MiB, 40 * MiB, 20 * MiB, seconds=40)
    new, _ = precopy(256 * MiB, 16 * MiB, 4 * MiB, 20 * MiB, seconds=6, start=2000)
    h = history(old + new)
    assert len(Run(h)) == len(new)
    ctx = Context(status="active", measurements=((1.0, 4 * MiB),))
    assert forecast(h, ctx) == forecast(history(new), ctx)


def test_missing_fields_and_setup_samples_give_gathering_not_errors():
    samples = [sample(1000, "setup"), sample(1001, "active")]
    assert run_forecasts(samples)[-1][1].verdict == "gathering"
    assert forecast(None, Context(status="active")).verdict == "gathering"
    setup_then_numbers = [sample(1000, "setup")] + [
        sample(1001 + i, transferred=i * 20 * MiB, remaining=200 * MiB - i * 20 * MiB,
               total=256 * MiB, dirty_sync_count=1) for i in range(3)]
    assert run_forecasts(setup_then_numbers)[-1][1].verdict == "first-pass"


def test_postcopy_reports_bytes_left_rate_requests_and_eta():
    samples = [sample(1000 + i, "postcopy-active", transferred=i * 10 * MiB,
                      remaining=100 * MiB - i * 10 * MiB, postcopy_requests=50 * i) for i in range(5)]
    f = run_forecasts(samples, blocktime_ms=12)[-1][1]
    assert f.verdict == "postcopy"
    assert f.eta == pytest.approx(6.0 + FINISH_S)  # 60 MiB at 10 MiB/s, then finishing
    assert f.eta_low == pytest.approx(60 / 15) and f.eta_high > f.eta  # no faster than 1.5 x the rate seen
    assert f.cause == Cause.POSTCOPY_LEFT and round(f.facts.page_request_rate) == 50
    assert f.facts.blocktime_ms == 12
    # a spike at the switch (445 MiB/s in one step) does not make 86 MiB look like 200 ms
    spike = [sample(1000, "active", transferred=0, remaining=400 * MiB)] + [
        sample(1001 + i, "postcopy-active", transferred=300 * MiB + i * 16 * MiB,
               remaining=86 * MiB - i * 16 * MiB) for i in range(3)]
    f = run_forecasts(spike, max_postcopy_bandwidth=16 * MiB)[-1][1]
    assert f.eta_low >= 54 / 24 and f.eta_low <= 54 / 16 + FINISH_S <= f.eta_high


def test_postcopy_announced_before_any_postcopy_sample_is_no_crash():
    """The MIGRATION event says postcopy-active before a poll brings a postcopy sample."""
    samples = [sample(1000 + i, transferred=i * 10 * MiB, remaining=100 * MiB - i * 10 * MiB)
               for i in range(4)]
    f = forecast(history(samples), Context(status="postcopy-active", max_postcopy_bandwidth=8 * MiB))
    assert f.verdict == "postcopy" and f.eta == pytest.approx(70 / 8 + FINISH_S)  # at the cap


def test_paused_postcopy_names_the_failed_side_quotes_qemu_and_lists_steps():
    f = forecast(None, Context(status="postcopy-paused", destination_status="postcopy-paused",
                               failed_side="destination", error="Connection reset by peer"))
    assert f.verdict == "paused"
    assert f.cause == Cause.LINK_FAILED
    assert (f.facts.failed_side, f.facts.error) == ("destination", "Connection reset by peer")
    assert [a.action for a in f.advice] == ["recover"]
    assert f.advice[0].action == "recover"
    assert forecast(None, Context(status="postcopy-recover")).verdict == "recovering"


def test_a_pause_on_purpose_is_not_a_failure_and_recover_setup_is_recovering():
    from qmigtui.model.records import parse_record
    from qmigtui.watch.context import build_context
    from qmigtui.watch.snapshot import SideState
    src = SideState("source", "s", "connected", info=parse_record("MigrationInfo", {
        "status": "postcopy-paused", "error-desc": "Postcopy migration is paused by the user"}))
    dst = SideState("destination", "d", "connected",
                    info=parse_record("MigrationInfo", {"status": "postcopy-paused"}))
    f = forecast(None, build_context(src, dst, ()))
    assert f.verdict == "paused" and f.cause == Cause.PAUSED_BY_OPERATOR
    assert forecast(None, Context(status="postcopy-recover-setup")).verdict == "recovering"


def test_pre_switchover_asks_for_continue():
    f = forecast(None, Context(status="pre-switchover"))
    assert f.verdict == "switchover" and f.advice[0].action == "continue"


def test_pre_switchover_under_libvirt_is_libvirts_to_continue():
    from qmigtui.qmp.libvirt_stats import schema
    from qmigtui.qmp.schema import Schema
    commands = frozenset(Schema.from_introspection(schema()).commands)
    f = forecast(None, Context(status="pre-switchover", commands=commands, manager="libvirt"))
    assert f.verdict == "switchover" and f.cause == Cause.MANAGER_CONTINUES and f.facts.manager == "libvirt"
    assert [a.action for a in f.advice] == ["cancel"]


def test_preflight_says_whether_precopy_can_converge_and_what_to_turn_on():
    caps = {"postcopy-ram": False, "auto-converge": False, "events": True}
    bad = forecast(None, Context(measurements=((1.0, 40 * MiB),), max_bandwidth=20 * MiB,
                                 capabilities=caps))
    assert bad.cause == Cause.PREFLIGHT_WILL_NOT
    assert [a.target for a in bad.advice] == ["max-bandwidth", "postcopy-ram", "auto-converge"]
    good = forecast(None, Context(measurements=((1.0, 5 * MiB),), max_bandwidth=20 * MiB))
    assert good.cause == Cause.PREFLIGHT_CONVERGES and not good.advice
    small = forecast(None, Context(measurements=((1.0, 40 * MiB), (4.0, 1 * MiB)),
                                   max_bandwidth=20 * MiB))
    assert small.cause == Cause.PREFLIGHT_CONVERGES  # a 4 MiB hot set fits in 300 ms


def test_our_stall_detector_fires_before_the_reference_rule_and_never_on_converging_runs():
    stuck, _ = precopy(256 * MiB, 64 * MiB, 40 * MiB, 20 * MiB, seconds=120, interval=0.5)
    t = [s["t"] for s in stuck]
    ref = reference_stall_time(t, [s["remaining"] for s in stuck])
    assert ref is not None
    forecasts = run_forecasts(stuck)
    ours = next(t for t, f in forecasts if f.verdict in ("not-converging", "stalled"))
    assert ours < ref
    for ram, hot, rate in ((256, 64, 12), (256, 16, 8), (128, 96, 16)):
        ok, done = precopy(ram * MiB, hot * MiB, rate * MiB, 20 * MiB, interval=0.5)
        assert done is not None
        h = history(ok)
        assert stalled_pass(Run(h).pass_starts()) is None


def test_reference_rule_on_plain_series():
    t = list(range(100))
    falling = [1000 - 10 * i for i in t]
    assert reference_stall_time(t, falling) is None
    flat = [500.0] * 100
    assert reference_stall_time(t, flat) == 40
    assert reference_stall_time([], []) is None


_number = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2**63, 2**64))
_status = st.sampled_from(["setup", "active", "postcopy-active", "postcopy-paused", "completed",
                           "device", "none", "cancelling", "whatever"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_status, st.dictionaries(st.sampled_from(
    ["t", "transferred", "remaining", "total", "dirty_pages_rate", "page_size", "dirty_sync_count",
     "throttle", "postcopy_requests"]), _number)), max_size=40),
    st.lists(st.tuples(st.floats(0.001, 100), st.floats(0, 1e12)), max_size=3))
def test_fuzzed_series_never_crash_the_forecast(rows, measured):
    h = history([])
    for status, values in rows:
        h.append(sample(float(values.pop("t", len(h))), status, **{k: float(v) for k, v in values.items()}))
        f = forecast(h, Context(status=status, measurements=tuple(measured), max_bandwidth=1e7,
                                capabilities={"auto-converge": True, "postcopy-ram": True},
                                commands=CMDS))
        assert isinstance(f.cause, Cause) and f.verdict


def test_dirty_limit_is_named_in_the_verdict_when_on():
    samples, _ = precopy(256 * MiB, 64 * MiB, 40 * MiB, 20 * MiB, seconds=40)
    f = run_forecasts(samples, capabilities={"dirty-limit": True}, vcpu_dirty_limit=1)[-1][1]
    assert f.facts.dirty_limit_on and f.facts.vcpu_dirty_limit == 1


def test_dirty_rate_windows_are_reconciled_into_one_estimate_of_a_known_shape():
    from qmigtui.analysis.footprint import WindowShape, reconcile
    hot = reconcile([(1, 120 * MiB), (2, 65 * MiB), (30, 4 * MiB)])  # 120 MB whatever the window
    assert hot is not None and hot.shape is WindowShape.HOT_SET
    assert round(hot.footprint.rate / MiB) == 120 and hot.footprint.cap < 140 * MiB
    bursty = reconcile([(1, 101 * MiB), (2, 0), (16, 6 * MiB)])  # the 2 s window missed the burst
    assert bursty is not None and bursty.shape is WindowShape.BURSTS
    steady = reconcile([(1, 12 * MiB), (2, 12 * MiB)])
    assert steady is not None and steady.shape is WindowShape.STEADY
    assert reconcile([]) is None


def test_a_qemu_that_syncs_many_times_a_second_still_gets_a_verdict():
    # QEMU 11.1 syncs its dirty bitmap about ten times a second while a precopy cannot
    # converge: dirty-sync-count rises by ~5 between two polls, QEMU's dirty-pages-rate
    # (over a second or more) still holds. The forecast must not wait for a "pass" forever.
    samples = []
    rate, bandwidth = 24 * MiB, 16 * MiB
    for k in range(60):
        t = 1000.0 + 0.5 * k
        samples.append(sample(t, transferred=bandwidth * 0.5 * k, remaining=24 * MiB + (k % 4) * MiB,
                              total=128 * MiB, dirty_sync_count=2 + 5 * k,
                              dirty_pages_rate=rate / PAGE if k else 0.0, mbps=bandwidth * 8 / 1e6))
    verdicts = [f.verdict for _, f in run_forecasts(samples)]
    assert "gathering" not in verdicts[20:]
    assert {"not-converging", "stalled"} & set(verdicts[20:])
    assert "converging" not in verdicts


def test_a_forecast_equals_the_same_forecast_worked_out_again():
    """Facts and remedies are values: unknown numbers (nan) do not make one unequal to itself."""
    samples, _ = precopy(256 * MiB, 64 * MiB, 40 * MiB, 20 * MiB, seconds=40)
    kw = dict(max_bandwidth=20 * MiB, commands=CMDS, measurements=((1.0, 40 * MiB),))
    assert run_forecasts(samples, **kw)[-1][1] == run_forecasts(samples, **kw)[-1][1]
