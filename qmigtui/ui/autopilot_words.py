"""The autopilot in words: each decision's reason, its act, and the objectives shown before
engaging (the policy returns data; only the UI words it)."""

from __future__ import annotations

import math

from qmigtui.model import units
from qmigtui.policy.decision import Act, Decision, Why
from qmigtui.policy.objectives import Objectives

WHY = {
    Why.NOT_RUNNING: "no migration runs",
    Why.ENDED: "the migration ended",
    Why.SETUP: "set before the migration starts",
    Why.GATHERING: "gathering readings",
    Why.ON_TRACK: "on track: nothing to do",
    Why.COOLDOWN: "waits for its last change to show",
    Why.HYSTERESIS: "trouble seen once: acts if the next reading confirms it",
    Why.AWAIT_MINIMUM: "switches at the next low of what is left",
    Why.MORE_BANDWIDTH: "the link has room above the cap",
    Why.DOWNTIME_FOR_HOT_SET: "what the hot set needs to switch over",
    Why.THROTTLE: "QEMU throttles the guest itself (auto-converge)",
    Why.POSTCOPY_IN_TIME: "postcopy finishes in time",
    Why.STOP_AND_COPY: "a stop-and-copy finishes it",
    Why.PAST_DEADLINE: "past the deadline",
    Why.NOTHING_HELPS: "waits: nothing within the objectives helps",
    Why.POSTCOPY_PAUSED: "the postcopy is paused: recovering it",
    Why.BACK_OFF: "tries the recovery again later",
    Why.LADDER_STEP: "its ladder's next step",
    Why.COMPLETION_TIMEOUT: "its completion timeout passed",
    Why.PROGRESS_TIMEOUT: "no progress for its progress timeout",
    Why.STALLED: "its stall rule fired",
    Why.REMAINING_ROSE: "what is left kept rising",
    Why.OPERATOR_ACTED: "the operator acted: it stands down",
    Why.NO_POLICY: "no policy: it never acts",
}

ACT = {
    Act.WAIT: "waits",
    Act.SET_PARAMETER: "sets",
    Act.SET_CAPABILITY: "turns on",
    Act.POSTCOPY: "switches to postcopy",
    Act.STOP_GUEST: "stops the guest (stop-and-copy)",
    Act.ABORT: "cancels the migration",
    Act.RECOVER: "recovers the postcopy",
    Act.STAND_DOWN: "stands down",
}


def decision_text(d: Decision) -> str:
    """``sets downtime-limit to 400 ms: what the hot set needs to switch over``; a wait is its
    reason alone."""
    if d.act is Act.WAIT:
        return WHY[d.why]
    what = ACT[d.act]
    if d.act is Act.SET_PARAMETER and isinstance(d.value, (int, float)):
        unit = "ms" if d.target == "downtime-limit" else "%" if "throttle" in d.target else "bytes/s"
        value = units.format_rate(d.value) if unit == "bytes/s" else f"{d.value:g} {unit}"
        what = f"sets {d.target} to {value}"
    elif d.act is Act.SET_CAPABILITY:
        what = f"turns {d.target} {'on' if d.value else 'off'}"
    return f"{what}: {WHY[d.why]}"


def objectives_text(o: Objectives) -> list[str]:
    """The objectives and every act the policy may take, for the one confirmation."""
    deadline = ("none" if o.deadline_s is None and o.deadline_per_gib_s is None else
                " or ".join(x for x in (
                    f"{o.deadline_s:g} s" if o.deadline_s is not None else "",
                    f"{o.deadline_per_gib_s:g} s per GiB" if o.deadline_per_gib_s is not None else "")
                    if x))
    allowed = [ACT[a] for a in Act if a not in (Act.WAIT, Act.STAND_DOWN) and o.allows(a)]
    link = units.format_rate(o.link_bytes_per_s) if o.link_bytes_per_s else "not known"
    return [f"most downtime {o.max_downtime_ms:g} ms, deadline {deadline}, most throttle "
            f"{o.max_throttle:g} %, link {link}" + (f", timers x{o.time_scale:g}"
                                                     if not math.isclose(o.time_scale, 1) else ""),
            "it may: " + "; ".join(allowed)]
