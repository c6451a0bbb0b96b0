"""What a forecast says: its verdict, the cause behind it, the facts (numbers in bytes,
bytes/s and seconds) and the remedies as typed actions; and the Context it is worked out
from.  Plain data: the UI words it, an unattended policy acts on it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any


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
    manager: str = ""  # what the source is reached through besides QMP (libvirt), if anything
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


class Cause(StrEnum):
    """What the verdict rests on (the UI words it with the Facts)."""

    NO_MIGRATION = "no-migration"
    GATHERING = "gathering"
    CANCELLING = "cancelling"
    FAILING = "failing"  # QEMU 11.0+: failed, cleaning up
    FAILED = "failed"  # facts.error: QEMU's words, if any
    ENDED = "ended"  # completed or cancelled
    LINK_IDLE = "link-idle"  # nothing sent for seconds
    MANAGER_CONTINUES = "manager-continues"  # at facts.status; the VM's manager continues itself
    WAITS_AT_SWITCHOVER = "waits-at-switchover"  # at facts.status; migrate-continue goes on
    WAIT_UNPLUG = "wait-unplug"
    FIRST_PASS = "first-pass"  # facts.first_pass_left_s; the dirty rate comes after it
    SWITCHOVER_IN = "switchover-in"  # facts.switchover_in_s, facts.passes_to_go
    DIRTY_OUTRUNS_LINK = "dirty-outruns-link"  # facts.dirty_rate vs facts.bandwidth
    BURSTS = "bursts"  # facts.burst_low..burst_high
    AUTO_CONVERGE = "auto-converge"  # QEMU throttles (or will): facts.throttle
    PREFLIGHT_RATE = "preflight-rate"  # a measured rate, no bandwidth cap to judge it by
    PREFLIGHT_CONVERGES = "preflight-converges"
    PREFLIGHT_WILL_NOT = "preflight-will-not"
    POSTCOPY_IDLE = "postcopy-idle"  # nothing moving; the guest waits for pages
    POSTCOPY_LEFT = "postcopy-left"  # facts.remaining at facts.postcopy_rate
    LINK_FAILED = "link-failed"  # facts.failed_side ("" for the link), facts.error
    PAUSED_BY_OPERATOR = "paused-by-operator"
    RECOVERING = "recovering"


@dataclass(frozen=True, eq=False)
class Facts:
    """The numbers a verdict was worked out from (nan: not known, and equal to itself here).
    Bytes, bytes/s, seconds."""

    status: str = ""
    bandwidth: float = math.nan
    bandwidth_low: float = math.nan
    bandwidth_high: float = math.nan
    remaining: float = math.nan
    switchover_below: float = math.nan  # bytes: bandwidth × downtime-limit
    pass_number: int = 0  # the pass under way (0: not known)
    pass_elapsed_s: float = math.nan
    dirty_rate: float = math.nan  # the guest's, as fitted
    dirty_rate_is_lower_bound: bool = False  # from the passes only: no short measurement yet
    hot_set: float = math.inf  # bytes the guest keeps rewriting (inf: none seen)
    throttle: float = math.nan  # percent
    throttle_max: float = math.nan
    zeros_left: float = math.nan  # share of what the first pass has to go that is zero pages
    to_send: float = math.nan  # bytes left less those zero pages
    zero_share: float = math.nan  # share of guest RAM in zero pages
    dirty_ratio: float = math.nan  # dirty rate / bandwidth
    prev_start_pass: int = 0  # the two last pass starts after the first: their pass and
    prev_start_remaining: float = math.nan  # what was left when each began
    last_start_pass: int = 0
    last_start_remaining: float = math.nan
    no_new_low: bool = False  # the last pass starts made no new low (the stall rule)
    passes_to_go: int = 0
    switchover_in_s: float = math.nan
    first_pass_left_s: float = math.nan
    measuring: bool = False  # a dirty-rate measurement is under way or wanted now
    one_pass_only: bool = False  # the ETA comes from one pass; "converging" once two agree
    hot_bytes: float = math.nan  # bytes a stop-and-copy would have to send at once
    dirty_limit_on: bool = False
    vcpu_dirty_limit: float = math.nan  # MB/s per vCPU (nan with dirty-limit on: QEMU's own)
    auto_converge: bool = False
    burst_low: float = math.nan
    burst_high: float = math.nan
    max_bandwidth: float = math.nan  # the cap before a migration (preflight)
    postcopy_rate: float = math.nan
    max_postcopy_bandwidth: float = math.nan
    page_request_rate: float = math.nan  # per second
    blocktime_ms: float = math.nan
    fault_wait_ns: float = math.nan
    manager: str = ""  # what manages the VM (libvirt), where something does
    failed_side: str = ""  # "" for the link
    error: str = ""  # QEMU's error-desc

    def _values(self) -> tuple[Any, ...]:
        return tuple("nan" if isinstance(v, float) and math.isnan(v) else v
                     for v in (getattr(self, f.name) for f in fields(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Facts) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())


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
    """One thing that can be done now: the action and its arguments (``target`` a parameter
    or capability, ``value`` what to set it to, ``amount`` the number in its unit: ms,
    bytes/s or MB/s per vCPU)."""

    action: AdviceAction
    target: str = ""
    value: Any = None
    amount: float | None = None  # (None: the action takes no number)
    uncertain: bool = False  # worked out from a dirty rate known only as a lower bound


@dataclass(frozen=True)
class Forecast:
    verdict: Verdict
    cause: Cause
    facts: Facts = Facts()
    eta: float | None = None  # seconds to completion, middle estimate
    eta_low: float | None = None
    eta_high: float | None = None  # inf: no upper bound known
    switchover_in: float | None = None
    downtime_ms: float | None = None  # stop-and-copy: at most this at the measured bandwidth
    #                                   (QEMU lifts the cap for it); not converging: what it would need
    downtime_limit_ms: float | None = None
    advice: tuple[Advice, ...] = ()
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
        """The remedy the app offers first: the first that is not giving up."""
        return next((a for a in self.advice if a.action is not AdviceAction.CANCEL), None)
