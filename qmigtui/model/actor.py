"""Who sends a command: the operator (keys, palette, console, advice, serve) or the
autopilot. Set for the autopilot's own tasks; the audit log and the autopilot's stand-down
read it."""

from __future__ import annotations

from contextvars import ContextVar

OPERATOR, AUTOPILOT = "operator", "autopilot"
MEASURING = "measuring"  # qmigtui's own dirty-rate measurement, which changes nothing
ACTOR: ContextVar[str] = ContextVar("actor", default=OPERATOR)
