"""What the operator asks of an unattended migration: the most downtime, a deadline, the most
throttle, and which acts are allowed; read from a policy file (TOML) or the defaults."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qmigtui.model import units
from qmigtui.policy.decision import CHANGES, Act

GiB = 1 << 30


@dataclass(frozen=True)
class Objectives:
    """Bounds no policy of ours goes past; the presets read the same switches (postcopy,
    abort, stop-guest allowed) as their own settings, and their timers are scaled by
    ``time_scale``."""

    max_downtime_ms: float = 500.0
    deadline_s: float | None = None  # from the start of the migration
    deadline_per_gib_s: float | None = None  # per GiB of guest RAM (what nova and KubeVirt count)
    max_throttle: float = 50.0  # percent of the guest's CPU
    postcopy: bool = False
    abort: bool = True
    stop_guest: bool = False  # the workload may be paused so the rest goes at once
    link_bytes_per_s: float | None = None  # the most the link carries (room above max-bandwidth)
    time_scale: float = 1.0
    actions: frozenset[Act] = field(default=CHANGES)

    def allows(self, act: Act) -> bool:
        if act is Act.POSTCOPY and not self.postcopy:
            return False
        if act is Act.ABORT and not self.abort:
            return False
        if act is Act.STOP_GUEST and not self.stop_guest:
            return False
        return act in (Act.WAIT, Act.STAND_DOWN) or act in self.actions

    def deadline(self, ram_bytes: float) -> float:
        """Seconds from the start the migration should be done by (inf: no deadline)."""
        found = [d for d in (self.deadline_s,
                             self.deadline_per_gib_s * max(ram_bytes / GiB, 1.0)
                             if self.deadline_per_gib_s is not None and math.isfinite(ram_bytes) else None)
                 if d is not None]
        return min(found) if found else math.inf


_KEYS = {"max-downtime": "max_downtime_ms", "deadline": "deadline_s",
         "deadline-per-gib": "deadline_per_gib_s", "max-throttle": "max_throttle",
         "postcopy": "postcopy", "abort": "abort", "stop-guest": "stop_guest",
         "link": "link_bytes_per_s", "time-scale": "time_scale", "actions": "actions"}


def _value(key: str, raw: Any) -> Any:
    if key in ("postcopy", "abort", "stop-guest"):
        if not isinstance(raw, bool):
            raise ValueError(f"{key}: expected true or false, got {raw!r}")
        return raw
    if key == "actions":
        if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
            raise ValueError(f"actions: expected a list of {', '.join(a.value for a in sorted(CHANGES))}")
        unknown = [a for a in raw if a not in {c.value for c in CHANGES}]
        if unknown:
            raise ValueError(f"actions: no such action {unknown[0]!r}; known: "
                             f"{', '.join(sorted(c.value for c in CHANGES))}")
        return frozenset(Act(a) for a in raw)
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ValueError(f"{key}: expected a number, got {raw!r}")
    if key == "link":
        value = float(units.parse_size(raw)) if isinstance(raw, str) else float(raw)
    elif key in ("deadline", "deadline-per-gib"):
        value = units.parse_position(raw) if isinstance(raw, str) else float(raw)
    elif key == "max-downtime":
        value = float(units.parse_duration_ms(raw)) if isinstance(raw, str) else float(raw)
    else:
        value = float(raw)
    limits = {"max-throttle": (0.0, 99.0), "time-scale": (0.001, 1000.0)}.get(key, (0.0, math.inf))
    if not (limits[0] <= value <= limits[1]) or (key != "max-throttle" and value == 0):
        raise ValueError(f"{key}: {value:g} is out of range")
    return value


def parse(table: dict[str, Any], base: Objectives | None = None) -> Objectives:
    """Objectives from a TOML table (``max-downtime = "300ms"``, ``deadline = "10m"``...);
    raises ValueError with one line for an unknown key or a value out of range."""
    changes: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in _KEYS:
            raise ValueError(f"no such objective {key!r}; known: {', '.join(_KEYS)}")
        changes[_KEYS[key]] = _value(key, raw)
    return replace(base or Objectives(), **changes)


def load(path: Path) -> tuple[str, Objectives]:
    """A policy file: ``policy = "NAME"`` (default qmigtui) and an ``[objectives]`` table."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ValueError(f"{path}: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not TOML ({e})") from None
    unknown = set(data) - {"policy", "objectives"}
    if unknown:
        raise ValueError(f"{path}: unknown key {sorted(unknown)[0]!r} (policy, [objectives])")
    name = data.get("policy", "qmigtui")
    if not isinstance(name, str):
        raise ValueError(f"{path}: policy: expected a name")
    table = data.get("objectives", {})
    if not isinstance(table, dict):
        raise ValueError(f"{path}: [objectives] must be a table")
    try:
        return name, parse(table)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
