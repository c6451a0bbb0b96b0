"""qmigtui's own policy: it acts on the forecast's facts, not on timers.

Where the objectives name a link with room above the migration's cap, it uses the link from
the start (or as soon as it follows a migration that runs at its cap): sending faster is the
cheapest way to finish sooner, and less is dirtied meanwhile. While the forecast finishes
within the objectives it waits. When the migration is confirmed
in trouble (not converging, stalled, or finishing past the deadline, twice in a row), and
once the last act had time to show (a cooldown, and a new pass), it takes the cheapest act
the model says helps: more bandwidth where the link has room above the cap; the
downtime-limit the hot set needs, never above the objective; QEMU's own throttle where
auto-converge is on and under the most throttle allowed; postcopy where both sides have it
and it is predicted to finish in time, switched at a local minimum of what is left; past
the deadline, a stop-and-copy or abort where allowed. A paused postcopy is recovered with
back-off once both sides answer. Another client's change makes it stand down.
"""

from __future__ import annotations

import math

from qmigtui.analysis.verdict import AdviceAction, Verdict
from qmigtui.policy.decision import Act, Decision, Why, set_parameter, wait
from qmigtui.policy.objectives import Objectives
from qmigtui.policy.observation import Observation
from qmigtui.policy.presets import Preset

TROUBLE = frozenset({Verdict.NOT_CONVERGING, Verdict.STALLED, Verdict.AT_RISK})
CONFIRM = 2  # readings in a row that say trouble before anything is done
COOLDOWN_S = 3.0  # the least time between two acts
SAME_PASS_S = 15.0  # within one pass, an act waits this long for the next to show its effect
RECOVER_WAITS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)  # seconds between recovery attempts
MARGIN = 1.2  # a downtime-limit this much above what the hot set needs
STEP_MS = 50


class Qmigtui(Preset):
    name = "qmigtui"

    def __init__(self, objectives: Objectives):
        super().__init__(objectives)
        self.trouble = 0
        self.acted_at = -math.inf
        self.acted_pass = -1
        self.recoveries = 0
        self.recover_at = -math.inf
        self.recent: list[float] = []  # what was left, the last three readings

    def setup(self, obs: Observation) -> list[Decision]:
        cap = int(self.objectives.max_throttle)
        throttle = ([Decision(Act.SET_PARAMETER, Why.SETUP, "max-cpu-throttle", cap)]
                    if cap and obs.can_set("max-cpu-throttle") else [])
        link = self._room(obs)
        return throttle + ([link] if link is not None else [])

    def _room(self, obs: Observation) -> Decision | None:
        """The cap raised to the link, where the objectives say it has room above the cap."""
        link, cap = self.objectives.link_bytes_per_s, obs.max_bandwidth
        if not link or not cap or not math.isfinite(cap) or cap >= 0.9 * link or \
                not obs.can_set("max-bandwidth") or not self.objectives.allows(Act.SET_PARAMETER):
            return None
        return set_parameter("max-bandwidth", int(link), Why.MORE_BANDWIDTH, cap=cap, link=link)

    def follow(self, obs: Observation) -> Decision:
        if obs.status.paused:
            return self._recover(obs)
        self.recoveries = 0
        return super().follow(obs)

    def _recover(self, obs: Observation) -> Decision:
        if not obs.both_answer or obs.t < self.recover_at:
            return wait(Why.BACK_OFF, next_try_s=max(0.0, self.recover_at - obs.t))
        self.recover_at = obs.t + RECOVER_WAITS[min(self.recoveries, len(RECOVER_WAITS) - 1)]
        self.recoveries += 1
        return Decision(Act.RECOVER, Why.POSTCOPY_PAUSED, numbers=(("attempt", self.recoveries),))

    def steer(self, obs: Observation, elapsed: float) -> Decision:
        self.recent = [*self.recent[-2:], obs.remaining]
        f = obs.forecast
        if f is None or f.verdict in (Verdict.GATHERING, Verdict.FIRST_PASS) or math.isnan(obs.remaining):
            return wait(Why.GATHERING)
        left_s = self.objectives.deadline(obs.total) - elapsed
        late = f.eta is not None and f.eta > left_s
        if f.verdict not in TROUBLE and not late:
            self.trouble = 0
            room = self._room(obs) if obs.bandwidth >= 0.8 * obs.max_bandwidth else None
            if room is not None and obs.t - self.acted_at >= COOLDOWN_S:
                self.acted_at, self.acted_pass = obs.t, obs.passes
                return room  # a migration followed at its cap: the link has room
            return wait(Why.ON_TRACK, eta_s=f.eta if f.eta is not None else math.nan, left_s=left_s)
        self.trouble += 1
        if self.trouble < CONFIRM:
            return wait(Why.HYSTERESIS)
        waited = obs.t - self.acted_at
        if waited < COOLDOWN_S or (obs.passes == self.acted_pass and waited < SAME_PASS_S):
            return wait(Why.COOLDOWN, since_s=waited)
        decision = self._cheapest(obs, left_s)
        if decision.changes_vm:
            self.acted_at, self.acted_pass, self.trouble = obs.t, obs.passes, 0
        return decision

    def _cheapest(self, obs: Observation, left_s: float) -> Decision:
        for choice in (self._bandwidth, self._downtime, self._throttle, self._postcopy):
            decision = choice(obs, left_s)
            if decision is not None:
                return decision
        if left_s <= 0:
            return self.final((Act.STOP_GUEST, Act.ABORT), Why.PAST_DEADLINE, left_s=left_s)
        return wait(Why.NOTHING_HELPS)

    def _bandwidth(self, obs: Observation, _left_s: float) -> Decision | None:
        if not obs.bandwidth >= 0.8 * obs.max_bandwidth:
            return None  # the cap does not bind (or there is none): more would not be used
        return self._room(obs)

    def _downtime(self, obs: Observation, _left_s: float) -> Decision | None:
        """The downtime-limit the forecast's remedy names, else the hot set over the link."""
        f = obs.forecast
        assert f is not None
        need = next((a.amount for a in f.advice if a.action is AdviceAction.SET_PARAMETER
                     and a.target == "downtime-limit" and a.amount is not None), None)
        if need is None and math.isfinite(f.facts.hot_set) and obs.bandwidth > 0:
            need = f.facts.hot_set / obs.bandwidth * 1000 * MARGIN
        if need is None or not math.isfinite(need):
            return None
        ms = int(math.ceil(need / STEP_MS) * STEP_MS)
        current = obs.downtime_limit_ms if math.isfinite(obs.downtime_limit_ms) else 300.0
        if ms <= current or ms > self.objectives.max_downtime_ms or \
                not self.objectives.allows(Act.SET_PARAMETER):
            return None
        return set_parameter("downtime-limit", ms, Why.DOWNTIME_FOR_HOT_SET,
                             hot_set=f.facts.hot_set, bandwidth=obs.bandwidth)

    def _throttle(self, obs: Observation, _left_s: float) -> Decision | None:
        if obs.auto_converge and obs.throttle < self.objectives.max_throttle:
            return wait(Why.THROTTLE, throttle=obs.throttle)  # QEMU raises it itself
        return None

    def _postcopy(self, obs: Observation, left_s: float) -> Decision | None:
        if not (obs.postcopy_ready and self.objectives.allows(Act.POSTCOPY)) or not obs.bandwidth > 0:
            return None
        takes = obs.remaining / obs.bandwidth
        if takes > left_s:
            return None
        r = self.recent
        if len(r) == 3 and r[0] > r[1] < r[2]:
            self.finished = True
            return Decision(Act.POSTCOPY, Why.POSTCOPY_IN_TIME, numbers=(("takes_s", takes),))
        return wait(Why.AWAIT_MINIMUM, remaining=obs.remaining)
