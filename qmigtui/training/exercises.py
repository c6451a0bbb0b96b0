"""Guided exercises: a scenario, a task, and a judge of what the trainee does about it.

The judge reads QEMU's real state (each Snapshot the watcher publishes) and the
commands this session sent (the controller's audit hook, kept in memory): an
earlier run's lines in the audit file never count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qmigtui.control.ops import Controller
from qmigtui.watch.snapshot import Snapshot
from qmigtui.watch.watcher import Watcher

Sent = dict[str, Any]  # side, command, arguments, answer


@dataclass(frozen=True)
class ExerciseResult:
    """Where an exercise stands: still running, or over (passed or failed, and why)."""

    done: bool
    passed: bool = False
    why: str = ""


RUNNING = ExerciseResult(False)
Judge = Callable[[Snapshot, list[Sent]], ExerciseResult]


def _sent(sent: list[Sent], command: str) -> list[Sent]:
    return [e for e in sent if e.get("command") == command and e.get("answer") == "ok"]


def _to_completion(snap: Snapshot, sent: list[Sent], success: str) -> ExerciseResult:
    """Passed once both sides completed; failed when it was cancelled or failed first."""
    if _sent(sent, "migrate_cancel") or snap.source.status in ("failed", "cancelled"):
        return ExerciseResult(True, False, f"the migration ended {snap.source.status}, not completed")
    done = snap.destination.status if snap.destination is not None else snap.source.status
    if snap.source.status == "completed" and done == "completed":
        return ExerciseResult(True, True, success)
    return RUNNING


def judge_rescue(snap: Snapshot, sent: list[Sent]) -> ExerciseResult:
    for e in _sent(sent, "migrate-set-parameters"):
        limit = (e.get("arguments") or {}).get("downtime-limit")
        if isinstance(limit, int) and limit > 1000:
            return ExerciseResult(True, False, f"downtime-limit was raised to {limit} ms, above 1 s")
    return _to_completion(snap, sent, "completed without a downtime limit above 1 s")


def judge_recover(snap: Snapshot, sent: list[Sent]) -> ExerciseResult:
    return _to_completion(snap, sent, "recovered and completed")


def judge_switchover(snap: Snapshot, sent: list[Sent]) -> ExerciseResult:
    return _to_completion(snap, sent, "continued through switchover to completed")


@dataclass(frozen=True)
class Exercise:
    name: str
    scenario: str
    task: str
    judge: Judge
    limit_s: float = 300.0


EXERCISES: dict[str, Exercise] = {e.name: e for e in (
    Exercise("rescue", "postcopy", "Bring this migration to completion without raising "
             "downtime-limit above 1 s.", judge_rescue),
    Exercise("recover", "stuck-postcopy", "The postcopy link broke and both sides are paused. "
             "Recover the migration and let it complete.", judge_recover),
    Exercise("switchover", "pre-switchover", "The migration waits before switchover. Let it "
             "finish (do not cancel).", judge_switchover),
)}


def summary(exercise: Exercise, result: ExerciseResult, seconds: float, sent: list[Sent]) -> str:
    """What was done and how long it took."""
    lines = [f"exercise {exercise.name}: {'PASSED' if result.passed else 'FAILED'} - {result.why}",
             f"time: {seconds:.0f} s", "what was sent:"]
    lines += [f"  {e.get('side')}: {e.get('command')} {e.get('arguments') or ''} -> {e.get('answer')}"
              for e in sent] or ["  nothing"]
    return "\n".join(lines)


class ExerciseRun:
    """One exercise being done: judged on every Snapshot until it is over.

    ``on_over`` is called once, with the result and the summary text.
    """

    def __init__(self, exercise: Exercise, watcher: Watcher, controller: Controller,
                 on_over: Callable[[ExerciseResult, str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.exercise = exercise
        self.sent: list[Sent] = []
        self.result: ExerciseResult | None = None
        self._on_over = on_over
        self._clock = clock
        self._started = clock()
        controller.audit_hooks.append(self._heard)
        watcher.subscribe(self._on_snapshot)

    def _heard(self, side: str, command: str, args: dict[str, Any] | None, answer: str) -> None:
        if self.result is None:
            self.sent.append({"side": side, "command": command, "arguments": args or {},
                              "answer": answer})

    def _on_snapshot(self, snap: Snapshot) -> None:
        self.judge(snap)

    @property
    def seconds(self) -> float:
        return self._clock() - self._started

    def judge(self, snap: Snapshot) -> ExerciseResult:
        """Judge one moment; the first result that is over is final."""
        if self.result is not None:
            return self.result
        result = self.exercise.judge(snap, self.sent)
        if not result.done and self.seconds > self.exercise.limit_s:
            result = ExerciseResult(True, False, f"not done within {self.exercise.limit_s:.0f} s")
        if result.done:
            self.result = result
            if self._on_over is not None:
                self._on_over(result, summary(self.exercise, result, self.seconds, self.sent))
        return result
