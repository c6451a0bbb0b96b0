"""The exporter's ledger, plain: a migration seen running and then over is counted once and
held for the hold time; one first seen over is not counted; acts are counted by reason."""

from __future__ import annotations

from qmigtui.metrics.ledger import Ledger
from qmigtui.model.records import parse_record
from qmigtui.qmp.hub import ConnState
from qmigtui.watch.snapshot import SideState, Snapshot


def snap(status: str, **numbers: float) -> Snapshot:
    info = parse_record("MigrationInfo", {"status": status, **numbers})
    return Snapshot((SideState("source", "unix:/x", ConnState.CONNECTED, info=info),), (), {})


def samples(ledger: Ledger) -> dict[str, float]:
    return {f"{s.name}{sorted(s.labels.items())}": s.value for f in ledger.families() for s in f.samples}


def test_a_finished_migration_is_counted_once_and_held_for_a_while():
    now = [1000.0]
    ledger = Ledger(hold_s=60, clock=lambda: now[0])
    ledger.observe("web-1", snap("completed", **{"total-time": 5000}))  # seen over at first: not counted
    assert not any("total" in k for k in samples(ledger))
    for status in ("active", "active", "completed", "completed"):
        ledger.observe("web-1", snap(status, **{"total-time": 9000, "downtime": 40, "setup-time": 3}))
    got = samples(ledger)
    assert got["qmigtui_migrations_total[('outcome', 'completed'), ('vm', 'web-1')]"] == 1
    assert got["qmigtui_migration_last_duration_seconds[('outcome', 'completed'), ('vm', 'web-1')]"] == 9.0
    assert got["qmigtui_migration_last_downtime_seconds[('outcome', 'completed'), ('vm', 'web-1')]"] == 0.04
    now[0] += 61  # past the hold: the numbers go, the count stays
    got = samples(ledger)
    assert not any("last_duration" in k for k in got)
    assert got["qmigtui_migrations_total[('outcome', 'completed'), ('vm', 'web-1')]"] == 1


def test_acts_are_counted_by_act_and_reason():
    ledger = Ledger()
    for _ in range(2):
        ledger.acted("db-2", "set-parameter", "ladder-step")
    ledger.acted("db-2", "postcopy", "completion-timeout")
    got = samples(ledger)
    key = ("qmigtui_autopilot_actions_total"
           "[('act', 'set-parameter'), ('reason', 'ladder-step'), ('vm', 'db-2')]")
    assert got[key] == 2
