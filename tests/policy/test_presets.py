"""The orchestrators' policies on synthetic traces: each does what its documentation says, at
the documented times (scaled as the objectives say), and the same trace gives the same
decisions."""

from __future__ import annotations

import math

import pytest

from qmigtui.model.states import Status
from qmigtui.policy.catalog import POLICIES, make
from qmigtui.policy.decision import Act, Decision, Why
from qmigtui.policy.objectives import GiB, Objectives
from qmigtui.policy.observation import Observation


def obs(t: float, remaining: float, *, passes: int = 1, total: float = GiB, status: str = "active",
        bandwidth: float = 100e6, ready: bool = False) -> Observation:
    return Observation(t=t, status=Status(status), remaining=remaining, total=total,
                       bandwidth=bandwidth, passes=passes, postcopy_ready=ready)


def run(policy, trace) -> list[tuple[float, Decision]]:
    return [(o.t, policy.decide(o)) for o in trace]


def acts(decisions) -> list[tuple[float, Act, str, object]]:
    return [(t, d.act, d.target, d.value) for t, d in decisions if d.act is not Act.WAIT]


def flat(seconds: float, step: float = 1.0, remaining: float = 500e6, **kw) -> list[Observation]:
    return [obs(k * step, remaining, **kw) for k in range(int(seconds / step) + 1)]


def test_nova_climbs_its_downtime_ladder_then_aborts_at_its_completion_timeout():
    nova = make("nova", Objectives(max_downtime_ms=500))
    done = acts(run(nova, flat(1700)))
    ladder = [(t, v) for t, a, target, v in done if a is Act.SET_PARAMETER]
    # 1 GiB counts as 2: a step every 150 s, from 50 ms to 500 ms in 10 steps
    assert ladder[0] == (0, 50) and ladder[1] == (150, 95) and ladder[-1] == (1500, 500)
    assert len(ladder) == 11
    assert [(t, a) for t, a, _, _ in done if a is not Act.SET_PARAMETER] == [(1601, Act.ABORT)]


def test_nova_forces_completion_with_postcopy_where_permitted_and_its_timers_scale():
    nova = make("nova", Objectives(postcopy=True, time_scale=0.1))
    done = acts(run(nova, flat(200, ready=True)))
    assert [(t, a) for t, a, _, _ in done if a is not Act.SET_PARAMETER] == [(161, Act.POSTCOPY)]
    assert [t for t, a, _, _ in done if a is Act.SET_PARAMETER][:2] == [0, 15]


def test_kubevirt_aborts_after_150_s_without_a_new_low():
    trace = [obs(t, 900e6 - 10e6 * min(t, 20), total=4 * GiB) for t in range(200)]
    done = acts(run(make("kubevirt"), trace))
    assert done == [(171, Act.ABORT, "", None)]  # the last new low at 20 s


def test_kubevirt_switches_to_postcopy_at_its_completion_timeout_when_allowed():
    trace = [obs(t, 4 * GiB - 1e6 * t, total=4 * GiB, ready=True) for t in range(700)]
    done = acts(run(make("kubevirt", Objectives(postcopy=True)), trace))
    assert done == [(601, Act.POSTCOPY, "", None)]
    done = acts(run(make("kubevirt", Objectives(postcopy=False)), trace))
    assert done == [(601, Act.ABORT, "", None)]


def test_kubevirt_stall_detector_waits_for_a_local_minimum_then_escalates():
    falling = [obs(t, 1000e6 - 10e6 * t) for t in range(50)]  # falls to 510 MB
    wobble = [obs(50 + t, 510e6 + (5e6 if t % 3 == 0 else 0) - (3e6 if t % 3 == 1 else 0))
              for t in range(60)]
    decisions = run(make("kubevirt-stall", Objectives(stop_guest=True)), falling + wobble)
    done = acts(decisions)
    assert len(done) == 1 and done[0][1] is Act.STOP_GUEST  # postcopy not ready, stop allowed
    when = int(done[0][0])
    left = {o.t: o.remaining for o in falling + wobble}
    assert when > 80  # the fall stopped at 50 s; the window's lowest is 40 s back
    assert left[when - 2] > left[when - 1] < left[when]  # right after a local minimum
    flat_stall = falling + [obs(50 + t, 510e6) for t in range(60)]  # stalled, no minimum
    decisions = run(make("kubevirt-stall", Objectives(stop_guest=True)), flat_stall)
    assert not acts(decisions) and decisions[-1][1].why is Why.AWAIT_MINIMUM


def _rising(times: int, **kw: object) -> list[Observation]:
    """What is left falls within each pass and rises at the next: ``times`` rises."""
    out = []
    for k in range(times + 1):
        out += [obs(3 * k, 500e6, **kw), obs(3 * k + 1, 400e6, **kw), obs(3 * k + 2, 300e6, **kw)]
    return out


def test_ovirt_steps_its_downtime_at_each_iteration_past_its_limit_then_aborts():
    """vdsm counts an iteration when what is left rises, and takes one action per iteration
    whose count has passed the action's limit (1, 2, 3, 4, 6, then abort)."""
    done = acts(run(make("ovirt"), _rising(9)))
    assert [v for _, a, _, v in done if a is Act.SET_PARAMETER] == [100, 150, 200, 300, 400, 500]
    assert done[-1][1] is Act.ABORT and done[-1][0] == 3 * 8  # the eighth rise: past the 500 ms step
    assert not acts(run(make("ovirt"), [obs(t, 500e6 - t * 1e6) for t in range(60)]))[1:]  # no rise


def test_ovirt_postcopy_policy_goes_150_200_then_postcopy():
    done = acts(run(make("ovirt", Objectives(postcopy=True)), _rising(5, ready=True)))
    assert [(a, v) for _, a, _, v in done] == [(Act.SET_PARAMETER, 100), (Act.SET_PARAMETER, 150),
                                               (Act.SET_PARAMETER, 200), (Act.POSTCOPY, None)]


def test_proxmox_sets_its_capabilities_first_and_doubles_the_downtime_every_sixth_rise():
    proxmox = make("proxmox")
    assert [(d.act, d.target, d.value) for d in proxmox.setup(Observation(0.0, Status("none")))] == [
        (Act.SET_CAPABILITY, "auto-converge", True), (Act.SET_CAPABILITY, "xbzrle", True)]
    trace = [obs(t, 100e6 + 1e6 * t) for t in range(20)]  # rising every reading
    values = [v for _, a, _, v in acts(run(proxmox, trace)) if a is Act.SET_PARAMETER]
    assert values == [100, 200, 400, 800]  # without end: past any objective


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_policy_is_deterministic_and_quiet_when_nothing_runs(name):
    trace = [obs(0, math.nan, status="none"), obs(1, 900e6, status="setup"),
             *(obs(2 + t, 900e6 - 5e6 * t, passes=1 + t // 10) for t in range(120)),
             obs(200, 0, status="completed")]
    first, second = run(make(name), trace), run(make(name), trace)
    assert first == second
    assert first[0][1].why is Why.NOT_RUNNING and first[-1][1].why is Why.ENDED
    if name == "none":
        assert not acts(first)


def test_objectives_from_a_policy_file(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('policy = "nova"\n[objectives]\nmax-downtime = "300ms"\ndeadline = "10m"\n'
                    'postcopy = true\nlink = "1G"\ntime-scale = 0.1\nactions = ["set-parameter"]\n')
    policy = make(str(path))
    o = policy.objectives
    assert policy.name == "nova" and o.max_downtime_ms == 300 and o.deadline_s == 600
    assert o.link_bytes_per_s == GiB and o.time_scale == 0.1
    assert o.allows(Act.SET_PARAMETER) and not o.allows(Act.ABORT) and not o.allows(Act.POSTCOPY)


@pytest.mark.parametrize("text, words", [
    ("[objectives]\nmax-downtime = -5\n", "out of range"),
    ("[objectives]\nspeed = 1\n", "no such objective 'speed'"),
    ("[objectives]\nactions = [\"reboot\"]\n", "no such action 'reboot'"),
    ('policy = "fastest"\n', "no such policy 'fastest'"),
    ("policy = [\n", "not TOML"),
])
def test_a_bad_policy_file_is_one_line(tmp_path, text, words):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=words) as e:
        make(str(path))
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_policy_stands_down_for_good_when_another_client_changes_a_setting(name):
    from dataclasses import replace
    policy = make(name)
    before = replace(obs(0, 900e6), changed_elsewhere=frozenset({"xbzrle"}))  # before it engaged
    assert policy.decide(before).act is not Act.STAND_DOWN
    changed = replace(obs(1, 890e6), changed_elsewhere=frozenset({"xbzrle", "downtime-limit"}))
    assert policy.decide(changed).act is Act.STAND_DOWN
    assert all(policy.decide(obs(2 + t, 800e6)).why is Why.OPERATOR_ACTED for t in range(30))


def test_no_timer_starts_before_the_samples_clock_has_a_time():
    """A migration announced by its event before the first sample: no time yet (nan), so no
    timer starts on another clock; the ladder then counts from the first sample's time."""
    nova = make("nova", Objectives(max_downtime_ms=500, time_scale=0.01))
    first = nova.decide(obs(math.nan, 500e6))
    assert first.act is Act.WAIT and first.why is Why.GATHERING
    steps = [nova.decide(obs(1000.0 + t, 500e6)) for t in range(0, 30)]
    values = [d.value for d in steps if d.act is Act.SET_PARAMETER]
    assert values and all(50 <= v <= 500 for v in values), values


def test_an_observation_before_the_first_sample_takes_the_polls_clock_not_the_wall():
    from qmigtui.model.records import parse_record
    from qmigtui.qmp.hub import ConnState
    from qmigtui.watch.snapshot import SideState, Snapshot
    side = SideState("source", "unix:/x", ConnState.CONNECTED, polled=1234.5,
                     info=parse_record("MigrationInfo", {"status": "active"}))
    seen = Observation.of(Snapshot((side,), (), {}, wall=1.8e9))
    assert seen.t == 1234.5
    never = SideState("source", "unix:/x", ConnState.CONNECTED)
    assert math.isnan(Observation.of(Snapshot((never,), (), {}, wall=1.8e9)).t)
