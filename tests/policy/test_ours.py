"""qmigtui's policy on synthetic traces: it waits while the forecast finishes in time, acts
on confirmed trouble with the cheapest remedy within the objectives, times postcopy at a
local minimum, recovers a paused postcopy with back-off, and stands down for an operator."""

from __future__ import annotations

import itertools
import math

from qmigtui.analysis.verdict import Advice, AdviceAction, Cause, Facts, Forecast, Verdict
from qmigtui.model.states import Status
from qmigtui.policy.catalog import make
from qmigtui.policy.decision import Act, Why
from qmigtui.policy.objectives import GiB, Objectives
from qmigtui.policy.observation import Observation

MB = 1e6


def forecast(verdict: Verdict, eta: float | None = None, hot_set: float = math.inf,
             need_ms: float | None = None) -> Forecast:
    advice = (Advice(AdviceAction.SET_PARAMETER, "downtime-limit", f"{need_ms:g}", need_ms),) \
        if need_ms is not None else ()
    return Forecast(verdict, Cause.DIRTY_OUTRUNS_LINK, Facts(hot_set=hot_set), eta=eta, advice=advice)


def obs(t: float, f: Forecast | None, *, remaining: float = 400 * MB, passes: int = 2,
        status: str = "active", bandwidth: float = 50 * MB, limit: float = 300.0,
        cap: float = 0.0, ready: bool = False, both: bool = True,
        changed: frozenset[str] = frozenset()) -> Observation:
    return Observation(t=t, status=Status(status), remaining=remaining, total=GiB,
                       bandwidth=bandwidth, passes=passes, downtime_limit_ms=limit,
                       max_bandwidth=cap, postcopy_ready=ready, both_answer=both, forecast=f,
                       changed_elsewhere=changed)


def test_a_migration_on_track_is_left_alone():
    policy = make("qmigtui")
    decisions = [policy.decide(obs(t, forecast(Verdict.CONVERGING, eta=30))) for t in range(60)]
    assert {d.act for d in decisions} == {Act.WAIT} and decisions[-1].why is Why.ON_TRACK


def test_confirmed_trouble_gets_the_downtime_the_hot_set_needs_within_the_objective():
    policy = make("qmigtui", Objectives(max_downtime_ms=500))
    stuck = forecast(Verdict.NOT_CONVERGING, hot_set=16 * MB, need_ms=380)
    first, second = policy.decide(obs(0, stuck)), policy.decide(obs(1, stuck))
    assert first.why is Why.HYSTERESIS  # one reading is not yet trouble
    assert (second.act, second.target, second.value) == (Act.SET_PARAMETER, "downtime-limit", 400)
    assert policy.decide(obs(2, stuck)).why in (Why.COOLDOWN, Why.HYSTERESIS)


def test_never_past_the_downtime_objective():
    policy = make("qmigtui", Objectives(max_downtime_ms=200))
    stuck = forecast(Verdict.NOT_CONVERGING, hot_set=64 * MB, need_ms=1500)
    decisions = [policy.decide(obs(t, stuck, passes=2 + t // 5)) for t in range(100)]
    assert not any(d.act is Act.SET_PARAMETER and d.target == "downtime-limit" for d in decisions)
    assert not any(d.changes_vm for d in decisions)  # no deadline, no postcopy: nothing helps
    assert decisions[-1].why is Why.NOTHING_HELPS


def test_more_bandwidth_first_where_the_link_has_room_above_the_cap():
    policy = make("qmigtui", Objectives(link_bytes_per_s=1e9))
    stuck = forecast(Verdict.NOT_CONVERGING, hot_set=16 * MB, need_ms=380)
    capped = dict(cap=40 * MB, bandwidth=40 * MB)
    policy.decide(obs(0, stuck, **capped))
    d = policy.decide(obs(1, stuck, **capped))
    assert (d.act, d.target, d.value) == (Act.SET_PARAMETER, "max-bandwidth", 1_000_000_000)


def test_the_link_is_used_from_the_start_where_the_objectives_say_it_has_room():
    ours = make("qmigtui", Objectives(link_bytes_per_s=1e9, max_throttle=0))
    start = Observation(0.0, Status("none"), max_bandwidth=40 * MB)
    assert [(d.target, d.value) for d in ours.setup(start)] == [("max-bandwidth", 1_000_000_000)]
    assert make("qmigtui", Objectives(max_throttle=0)).setup(start) == []  # no link named
    uncapped = Observation(0.0, Status("none"), max_bandwidth=0.0)
    assert ours.setup(uncapped) == []


def test_a_migration_followed_at_its_cap_gets_the_link_even_on_track():
    policy = make("qmigtui", Objectives(link_bytes_per_s=1e9))
    fine = forecast(Verdict.CONVERGING, eta=30)
    assert policy.decide(obs(0, fine, cap=40 * MB, bandwidth=20 * MB)).why is Why.ON_TRACK
    d = policy.decide(obs(1, fine, cap=40 * MB, bandwidth=39 * MB))
    assert (d.target, d.value) == ("max-bandwidth", 1_000_000_000)
    # once raised, nothing more: the cap no longer binds
    assert policy.decide(obs(9, fine, cap=1e9, bandwidth=200 * MB)).why is Why.ON_TRACK


def test_postcopy_where_allowed_at_a_local_minimum_of_what_is_left():
    policy = make("qmigtui", Objectives(postcopy=True, max_downtime_ms=100))
    stuck = forecast(Verdict.NOT_CONVERGING, hot_set=64 * MB, need_ms=1500)
    left = [500, 480, 470, 490, 460, 450, 455]
    decisions = [policy.decide(obs(t, stuck, remaining=r * MB, ready=True))
                 for t, r in enumerate(left)]
    acted = [(t, d.act) for t, d in enumerate(decisions) if d.changes_vm]
    assert acted == [(3, Act.POSTCOPY)]  # 470 was a minimum between 480 and 490
    assert decisions[2].why is Why.AWAIT_MINIMUM
    assert not make("qmigtui", Objectives(postcopy=False)).decide(
        obs(0, stuck, ready=True)).changes_vm


def test_abort_only_past_the_deadline_and_only_where_allowed():
    stuck = forecast(Verdict.NOT_CONVERGING, hot_set=64 * MB, need_ms=1500)
    for allowed in (True, False):
        policy = make("qmigtui", Objectives(max_downtime_ms=100, deadline_s=20, abort=allowed))
        decisions = [policy.decide(obs(t, stuck, passes=2 + t // 4)) for t in range(30)]
        final = [(t, d.act) for t, d in enumerate(decisions) if d.changes_vm]
        assert final == ([(20, Act.ABORT)] if allowed else []), final
        assert decisions[19].why is Why.NOTHING_HELPS  # before the deadline: never


def test_a_paused_postcopy_is_recovered_with_back_off_once_both_sides_answer():
    policy = make("qmigtui")
    paused = [obs(t / 2, None, status="postcopy-paused", both=t >= 4) for t in range(60)]
    tries = [o.t for o in paused if policy.decide(o).act is Act.RECOVER]
    assert tries[0] == 2.0  # not before both sides answer
    gaps = [b - a for a, b in itertools.pairwise(tries)]
    assert gaps == sorted(gaps) and gaps[0] >= 1.0  # backing off


def test_an_operator_change_makes_it_stand_down_for_good():
    policy = make("qmigtui")
    stuck = forecast(Verdict.NOT_CONVERGING, hot_set=16 * MB, need_ms=380)
    policy.decide(obs(0, stuck))
    d = policy.decide(obs(1, stuck, changed=frozenset({"downtime-limit"})))
    assert (d.act, d.why) == (Act.STAND_DOWN, Why.OPERATOR_ACTED)
    assert all(policy.decide(obs(t, stuck)).act is Act.WAIT for t in range(2, 30))


def test_the_throttle_cap_is_set_up_only_where_the_source_takes_it():
    ours = make("qmigtui", Objectives(max_throttle=40))
    qemu = Observation(0.0, Status("none"), parameters=frozenset({"max-cpu-throttle", "downtime-limit"}))
    libvirt = Observation(0.0, Status("none"), parameters=frozenset({"max-bandwidth", "downtime-limit"}))
    assert [(d.target, d.value) for d in ours.setup(qemu)] == [("max-cpu-throttle", 40)]
    assert ours.setup(libvirt) == []
    assert ours.setup(Observation(0.0, Status("none"))) != []  # not read yet: QEMU's default
