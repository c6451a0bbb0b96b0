"""An exercise run judged in memory: on each Snapshot, and on this session's commands only."""

from __future__ import annotations

from typing import Any

from qmigtui.model.records import parse_record
from qmigtui.training.exercises import EXERCISES, ExerciseResult, ExerciseRun
from qmigtui.watch.snapshot import SideState, Snapshot


class Hooks:
    """Stand-ins for the watcher and the controller: just the two hooks a run attaches to."""

    def __init__(self) -> None:
        self.audit_hooks: list[Any] = []
        self.listeners: list[Any] = []

    def subscribe(self, listener: Any) -> None:
        self.listeners.append(listener)

    def publish(self, source: str, destination: str) -> None:
        for listener in self.listeners:
            listener(snapshot(source, destination))

    def sent(self, command: str, args: dict[str, Any] | None = None, answer: str = "ok") -> None:
        for hook in self.audit_hooks:
            hook("source", command, args, answer)


def snapshot(source: str, destination: str) -> Snapshot:
    sides = tuple(SideState(name, name, "connected", info=parse_record("MigrationInfo", {"status": s}))
                  for name, s in (("source", source), ("destination", destination)))
    return Snapshot(sides, (), {})


def run(name: str, clock: list[float] | None = None, hooks: Hooks | None = None
        ) -> tuple[Hooks, list[Any]]:
    """An exercise run on ``hooks``; returns them and the list its result lands in."""
    hooks, over = hooks or Hooks(), []
    now = clock or [0.0]
    ExerciseRun(EXERCISES[name], hooks, hooks,  # type: ignore[arg-type]
                lambda result, text: over.append((result, text)), clock=lambda: now[0])
    return hooks, over


def test_a_cancel_sent_before_the_run_does_not_fail_it():
    hooks = Hooks()
    hooks.sent("migrate_cancel")  # sent during staging: the run is not attached yet
    hooks, over = run("switchover", hooks=hooks)
    hooks.publish("pre-switchover", "active")
    hooks.sent("migrate-continue", {"state": "pre-switchover"})
    hooks.publish("completed", "completed")
    assert over and over[0][0] == ExerciseResult(True, True, "continued through switchover to completed")
    assert "migrate-continue" in over[0][1] and "migrate_cancel" not in over[0][1]


def test_a_cancel_during_the_run_fails_it_once():
    hooks, over = run("recover")
    hooks.sent("migrate_cancel")
    hooks.publish("cancelled", "failed")
    hooks.publish("cancelled", "failed")
    assert len(over) == 1 and not over[0][0].passed


def test_a_rescue_with_a_big_downtime_limit_fails_and_the_time_limit_ends_a_run():
    hooks, over = run("rescue")
    hooks.sent("migrate-set-parameters", {"downtime-limit": 5000})
    hooks.publish("active", "active")
    assert over and "5000" in over[0][0].why
    clock = [0.0]
    hooks, over = run("rescue", clock)
    hooks.publish("active", "active")
    assert not over
    clock[0] = 301.0
    hooks.publish("active", "active")
    assert over and "not done within 300 s" in over[0][0].why
