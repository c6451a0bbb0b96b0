"""The orchestrators' policies as they document them, their timers scaled by the objectives'
``time_scale`` (their per-GiB timers assume large guests): nova's downtime ladder and
completion timeout, KubeVirt's progress and completion timeouts and its stall detector,
oVirt's schedule by iteration, Proxmox's doubling downtime, and none."""

from __future__ import annotations

import math
from collections import deque

from qmigtui.policy.decision import Act, Decision, Why, set_parameter, wait
from qmigtui.policy.objectives import GiB, Objectives
from qmigtui.policy.observation import Observation


class Preset:
    """What every policy shares: the objectives, when the migration started, what was sent."""

    name = "none"

    def __init__(self, objectives: Objectives):
        self.objectives = objectives
        self.started: float | None = None  # t of the first sample of the running migration
        self.finished = False  # a final act (postcopy, stop, abort) went out
        self.stood_down = False
        self._elsewhere: frozenset[str] | None = None  # changed by another client when engaged
        self._sent: dict[str, float] = {}

    def setup(self, obs: Observation) -> list[Decision]:
        """What the policy sets before the migration starts (nothing by default)."""
        return []

    def decide(self, obs: Observation) -> Decision:
        """Another client's change to a parameter or capability (after the first observation)
        makes every policy stand down, for good; else the policy's own rules."""
        if self._elsewhere is None:
            self._elsewhere = obs.changed_elsewhere
        if self.stood_down:
            return wait(Why.OPERATOR_ACTED)
        if obs.changed_elsewhere - self._elsewhere:
            self.stood_down = True
            return Decision(Act.STAND_DOWN, Why.OPERATOR_ACTED)
        return self.follow(obs)

    def follow(self, obs: Observation) -> Decision:
        if obs.status.ended:
            return wait(Why.ENDED)
        if not obs.status.running or obs.status == "setup":
            return wait(Why.NOT_RUNNING)
        if math.isnan(obs.t):
            return wait(Why.GATHERING)  # no time on the samples' clock yet: no timer starts
        if self.started is None:
            self.started = obs.t
        if obs.status.postcopy or self.finished:
            return wait(Why.ON_TRACK)
        return self.steer(obs, obs.t - self.started)

    def steer(self, obs: Observation, elapsed: float) -> Decision:
        return wait(Why.NO_POLICY)

    def scaled(self, seconds: float) -> float:
        return seconds * self.objectives.time_scale

    def downtime(self, ms: float, why: Why, **numbers: float) -> Decision:
        """Set downtime-limit to ``ms`` unless that is what it is already."""
        value = round(ms)
        if self._sent.get("downtime-limit") == value:
            return wait(Why.ON_TRACK, downtime_limit_ms=value)
        self._sent["downtime-limit"] = value
        return set_parameter("downtime-limit", value, why, **numbers)

    def final(self, acts: tuple[Act, ...], why: Why, **numbers: float) -> Decision:
        """The first of ``acts`` the objectives allow (postcopy also needs both sides ready)."""
        for act in acts:
            if self.objectives.allows(act):
                self.finished = True
                return Decision(act, why, numbers=tuple(numbers.items()))
        return wait(why, **numbers)


class Nothing(Preset):
    """No policy: QEMU's defaults, nothing sent."""

    name = "none"


def _gib(obs: Observation, at_least: float = 0.0) -> float:
    return max(obs.total / GiB if math.isfinite(obs.total) else 0.0, at_least)


class Nova(Preset):
    """nova's libvirt driver: downtime from max/steps up to ``live_migration_downtime`` in
    10 steps, one every 75 s per GiB; after 800 s per GiB (RAM counted as at least 2 GiB) the
    timeout action: force_complete (postcopy where permitted, else pause the guest) where
    the objectives allow either, else abort."""

    name = "nova"
    STEPS, STEP_DELAY_S, COMPLETION_S = 10, 75.0, 800.0

    def steer(self, obs: Observation, elapsed: float) -> Decision:
        gib = _gib(obs, 2.0)
        if elapsed > self.scaled(self.COMPLETION_S) * gib:
            acts = (Act.POSTCOPY, Act.STOP_GUEST) if obs.postcopy_ready else (Act.STOP_GUEST,)
            forced = self.objectives.postcopy or self.objectives.stop_guest
            return self.final(acts if forced else (Act.ABORT,), Why.COMPLETION_TIMEOUT,
                              elapsed_s=elapsed)
        top = self.objectives.max_downtime_ms
        base = top / self.STEPS
        step = min(self.STEPS, int(elapsed // (self.scaled(self.STEP_DELAY_S) * gib)))
        return self.downtime(base + (top - base) / self.STEPS * step, Why.LADDER_STEP,
                             step=step, elapsed_s=elapsed)


class KubeVirt(Preset):
    """KubeVirt's virt-launcher: abort after ``progressTimeout`` (150 s) without a new low of
    what is left; after ``completionTimeoutPerGiB`` (150 s a GiB) postcopy where allowed,
    else pause the workload where its disruption is allowed, else abort."""

    name = "kubevirt"
    PROGRESS_S, COMPLETION_PER_GIB_S = 150.0, 150.0

    def __init__(self, objectives: Objectives):
        super().__init__(objectives)
        self.low = math.inf
        self.low_at = 0.0

    def steer(self, obs: Observation, elapsed: float) -> Decision:
        if obs.remaining < self.low:
            self.low, self.low_at = obs.remaining, elapsed
        if elapsed - self.low_at > self.scaled(self.PROGRESS_S):
            return self.final((Act.ABORT,), Why.PROGRESS_TIMEOUT, since_low_s=elapsed - self.low_at)
        if elapsed > self.scaled(self.COMPLETION_PER_GIB_S) * _gib(obs):
            acts = ((Act.POSTCOPY,) if obs.postcopy_ready else ()) + (Act.STOP_GUEST, Act.ABORT)
            return self.final(acts, Why.COMPLETION_TIMEOUT, elapsed_s=elapsed)
        return wait(Why.ON_TRACK)


class KubeVirtStall(Preset):
    """KubeVirt's stall detector (VEP 248): a stall is what is left staying at 96 % or more of
    the lowest value seen before a 40 s window; it then waits for a local minimum of what is
    left, predicts the downtime as that over an EWMA of the bandwidth (alpha 0.4), and tries
    postcopy, a stop-and-copy, and abort, in that order, as allowed."""

    name = "kubevirt-stall"
    WINDOW_S, STALL_SHARE, ALPHA = 40.0, 0.96, 0.4

    def __init__(self, objectives: Objectives):
        super().__init__(objectives)
        self.seen: deque[tuple[float, float]] = deque()  # (elapsed, remaining) in the window
        self.low_before = math.inf
        self.ewma = math.nan
        self.stalled = False

    def steer(self, obs: Observation, elapsed: float) -> Decision:
        if math.isfinite(obs.bandwidth):
            self.ewma = obs.bandwidth if math.isnan(self.ewma) else \
                self.ALPHA * obs.bandwidth + (1 - self.ALPHA) * self.ewma
        if math.isnan(obs.remaining):
            return wait(Why.GATHERING)
        self.seen.append((elapsed, obs.remaining))
        while self.seen and self.seen[0][0] < elapsed - self.scaled(self.WINDOW_S):
            self.low_before = min(self.low_before, self.seen.popleft()[1])
        if not self.stalled:
            self.stalled = obs.remaining >= self.STALL_SHARE * self.low_before
            if not self.stalled:
                return wait(Why.ON_TRACK)
        values = [r for _, r in self.seen]
        if len(values) < 3 or not values[-3] > values[-2] < values[-1]:
            return wait(Why.AWAIT_MINIMUM, remaining=obs.remaining)
        downtime_ms = values[-2] / self.ewma * 1000 if self.ewma > 0 else math.inf
        acts = ((Act.POSTCOPY,) if obs.postcopy_ready else ()) + (Act.STOP_GUEST, Act.ABORT)
        return self.final(acts, Why.STALLED, predicted_downtime_ms=downtime_ms)


class OVirt(Preset):
    """oVirt (vdsm's convergence schedule): downtime 100 ms at the start; vdsm counts an
    iteration each time what is left rises (not QEMU's pass count) and, at each new one, takes
    the next action whose limit the count has passed: 150/200/300/400/500 ms past 1/2/3/4/6
    iterations, then abort; its post-copy policy: 150, 200, postcopy, then abort."""

    name = "ovirt"
    SCHEDULE: tuple[tuple[int, float | Act], ...] = (
        (1, 150.0), (2, 200.0), (3, 300.0), (4, 400.0), (6, 500.0), (-1, Act.ABORT))
    POSTCOPY_SCHEDULE: tuple[tuple[int, float | Act], ...] = (
        (1, 150.0), (2, 200.0), (3, Act.POSTCOPY), (-1, Act.ABORT))

    def __init__(self, objectives: Objectives):
        super().__init__(objectives)
        self.iterations = 0
        self.last = math.nan
        self.schedule: list[tuple[int, float | Act]] | None = None

    def steer(self, obs: Observation, elapsed: float) -> Decision:
        if self.schedule is None:
            postcopy = self.objectives.postcopy and obs.postcopy_ready
            self.schedule = list(self.POSTCOPY_SCHEDULE if postcopy else self.SCHEDULE)
            return self.downtime(100.0, Why.LADDER_STEP, iteration=0)  # the schedule's init
        rose = obs.remaining > self.last
        self.last = obs.remaining
        if not rose:
            return wait(Why.ON_TRACK, iteration=self.iterations)
        self.iterations += 1
        limit, action = self.schedule[0] if self.schedule else (math.inf, Act.WAIT)
        if not limit < self.iterations:
            return wait(Why.ON_TRACK, iteration=self.iterations)
        self.schedule.pop(0)
        if isinstance(action, Act):
            return self.final((action, Act.ABORT) if action is Act.POSTCOPY else (action,),
                              Why.LADDER_STEP, iteration=self.iterations)
        return self.downtime(action, Why.LADDER_STEP, iteration=self.iterations)


class Proxmox(Preset):
    """Proxmox (qemu-server): auto-converge and xbzrle on, downtime 100 ms; whenever what is
    left has risen more than 5 times, the downtime doubles, without end."""

    name = "proxmox"
    RISES, START_MS = 5, 100.0

    def __init__(self, objectives: Objectives):
        super().__init__(objectives)
        self.rises = 0
        self.last = math.nan
        self.ms = self.START_MS

    def setup(self, obs: Observation) -> list[Decision]:
        return [Decision(Act.SET_CAPABILITY, Why.SETUP, "auto-converge", True),
                Decision(Act.SET_CAPABILITY, Why.SETUP, "xbzrle", True)]

    def steer(self, obs: Observation, elapsed: float) -> Decision:
        if obs.remaining > self.last:
            self.rises += 1
        self.last = obs.remaining
        if self.rises > self.RISES:
            self.rises = 0
            self.ms *= 2
            self._sent.pop("downtime-limit", None)
            return self.downtime(self.ms, Why.REMAINING_ROSE, downtime_limit_ms=self.ms)
        return self.downtime(self.ms, Why.SETUP)
