"""What a policy decides at one moment, as data: the act, why (a reason a UI words), the
parameter and value where the act takes one, and the numbers it rested on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Act(StrEnum):
    """What a policy does now."""

    WAIT = "wait"
    SET_PARAMETER = "set-parameter"
    SET_CAPABILITY = "set-capability"  # before the migration starts only
    POSTCOPY = "postcopy"
    STOP_GUEST = "stop-guest"  # a stop-and-copy: the guest pauses so the rest goes at once
    ABORT = "abort"
    RECOVER = "recover"
    STAND_DOWN = "stand-down"  # someone else acted: the policy lets go


CHANGES = frozenset(Act) - {Act.WAIT, Act.STAND_DOWN}  # the acts that change a VM


class Why(StrEnum):
    """The reason behind a decision."""

    NOT_RUNNING = "not-running"
    ENDED = "ended"
    SETUP = "setup"  # what the policy sets before a migration starts
    GATHERING = "gathering"  # too little seen to judge
    ON_TRACK = "on-track"  # the forecast finishes within the objectives
    COOLDOWN = "cooldown"  # acted a moment ago: the effect is awaited
    HYSTERESIS = "hysteresis"  # the trouble is not yet confirmed
    AWAIT_MINIMUM = "await-minimum"  # a switch is timed at a local minimum of what is left
    MORE_BANDWIDTH = "more-bandwidth"  # the link has room the cap holds back
    DOWNTIME_FOR_HOT_SET = "downtime-for-hot-set"
    THROTTLE = "throttle"
    POSTCOPY_IN_TIME = "postcopy-in-time"
    STOP_AND_COPY = "stop-and-copy"
    PAST_DEADLINE = "past-deadline"
    NOTHING_HELPS = "nothing-helps"
    POSTCOPY_PAUSED = "postcopy-paused"
    BACK_OFF = "back-off"  # a recovery is tried again later
    LADDER_STEP = "ladder-step"  # a timer or iteration ladder moved on
    COMPLETION_TIMEOUT = "completion-timeout"
    PROGRESS_TIMEOUT = "progress-timeout"
    STALLED = "stalled"
    REMAINING_ROSE = "remaining-rose"
    OPERATOR_ACTED = "operator-acted"
    NO_POLICY = "no-policy"


@dataclass(frozen=True)
class Decision:
    """One decision; ``numbers`` are the facts behind it (bytes, bytes/s, seconds, ms)."""

    act: Act
    why: Why
    target: str = ""  # the parameter or capability
    value: int | float | bool | None = None
    numbers: tuple[tuple[str, float], ...] = ()

    @property
    def changes_vm(self) -> bool:
        return self.act in CHANGES

    @property
    def gist(self) -> tuple[Act, Why, str, int | float | bool | None]:
        """The decision without its numbers: a wait whose ETA moved is the same wait."""
        return self.act, self.why, self.target, self.value


def wait(why: Why, **numbers: float) -> Decision:
    return Decision(Act.WAIT, why, numbers=tuple(numbers.items()))


def set_parameter(name: str, value: int, why: Why, **numbers: float) -> Decision:
    return Decision(Act.SET_PARAMETER, why, name, value, tuple(numbers.items()))
