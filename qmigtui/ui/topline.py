"""The status line: each side's state, and what the operator must know at a glance (lab,
exercise, replay, read-only, events off, lasting problems)."""

from __future__ import annotations

from qmigtui.desk.facade import Desk, ReplayControl
from qmigtui.model import units
from qmigtui.watch.snapshot import Snapshot


def replay_flag(player: ReplayControl) -> str:
    """Where a replay is, of how long, at what speed, and whether it is paused or over."""
    at = units.format_position(player.position)
    of = f" of {units.format_position(player.length)}" if player.length is not None else ""
    state = " END" if player.at_end else " PAUSED" if player.paused else ""
    return f"REPLAY {at}{of} ×{player.speed:g}{state}"


def topline(snap: Snapshot, desk: Desk | None) -> str:
    """The status line for ``snap`` of ``desk``."""
    parts = []
    for side in snap.sides:
        state = side.status if side.connected else side.connection
        parts.append(f"{side.name}: {state}")
    flags = []
    player = desk.player if desk is not None else None
    if snap.lab:  # first: at 80 columns the end of the line is cut
        if desk is not None and desk.exercise is not None:
            flags.append(f"EXERCISE {desk.exercise.name}")
        elif desk is not None and desk.scenario is not None:
            flags.append(f"LAB: {desk.scenario.name}")
        else:
            flags.append(f"LAB: linux {desk.lab_workload}" if desk is not None and desk.lab_workload
                         else "LAB")
    if player is not None:
        flags.append(replay_flag(player))
        if player.warning:
            flags.append(player.warning)
    elif snap.read_only:
        flags.append("READ-ONLY")
    if any(s.connected and s.capabilities.get("events") is False for s in snap.sides):
        flags.append("events off: turn on 'events' in 3")
    if desk is not None:
        flags += [f"! {p}" for p in desk.problems()]
    lead = flags[:1] if snap.lab else []  # the scenario's name before the sides' states
    return "  ·  ".join(lead + parts + flags[len(lead):])
