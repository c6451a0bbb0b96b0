"""A fixed, synthetic Snapshot (an in-process fake, no QEMU) for layout and snapshot tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from qmigtui.analysis.forecast import forecast
from qmigtui.analysis.history import History, sample_from_reply
from qmigtui.model.records import enum_features, enum_values, members, parse_record
from qmigtui.ui.app import MigrationApp
from qmigtui.watch.context import build_context
from qmigtui.watch.snapshot import EventLine, SideState, Snapshot

GIB = 1 << 30


def info_reply(k: int) -> dict:
    remaining = max(GIB - k * 60_000_000, 90_000_000)
    return {"status": "active", "total-time": 1000 * k, "setup-time": 12,
            "expected-downtime": 400 - 5 * k,
            "ram": {"transferred": k * 60_000_000, "remaining": remaining, "total": GIB,
                    "duplicate": 100, "normal": 1000, "normal-bytes": 4096000,
                    "dirty-pages-rate": 6000 + 50 * k, "mbps": 480.0, "dirty-sync-count": 2,
                    "postcopy-requests": 0, "page-size": 4096}}


def fixed_snapshot() -> Snapshot:
    history = History(100)
    for k in range(30):
        history.append(sample_from_reply(float(k), 1_700_000_000.0 + k, info_reply(k)))
    caps = {c: c in ("events", "postcopy-ram") for c in enum_values("MigrationCapability")}
    features = enum_features("MigrationCapability")
    cap_features = {c: features.get(c, ()) for c in caps}
    params = parse_record("MigrationParameters", {
        "max-bandwidth": 134217728, "downtime-limit": 300, "cpu-throttle-initial": 20,
        "cpu-throttle-increment": 10, "max-cpu-throttle": 99, "multifd-channels": 2,
        "multifd-compression": "none", "tls-creds": "", "xbzrle-cache-size": 67108864,
        "max-postcopy-bandwidth": 0, "announce-initial": 50, "announce-max": 550,
        "announce-rounds": 5, "announce-step": 100})
    param_features = {m.name: m.features for m in members("MigrateSetParameters")}
    json_types = {"bool": "boolean", "str": "string", "StrOrNull": "string or null"}
    param_types = {m.name: json_types.get(str(m.type), "int" if "int" in str(m.type) or m.type == "size"
                                          else str(m.type)) for m in members("MigrateSetParameters")}
    source = SideState("source", "unix:/run/src.qmp", "connected", None, "7.2.22",
                       parse_record("MigrationInfo", info_reply(29)), caps, params,
                       frozenset(), cap_features, param_features, passes=2,
                       parameter_types=param_types)
    dest = SideState("destination", "unix:/run/dst.qmp", "connected", None, "7.2.22",
                     parse_record("MigrationInfo", {"status": "active", "socket-address": [
                         {"type": "inet", "host": "127.0.0.1", "port": "4444"}]}),
                     caps, params, frozenset(), cap_features, param_features)
    events = tuple(EventLine(side, name, data, 1_700_000_000.0 + i, float(i), i + 1)
                   for i, (side, name, data) in enumerate([
                       ("destination", "MIGRATION", {"status": "active"}),
                       ("source", "MIGRATION", {"status": "setup"}),
                       ("source", "MIGRATION_PASS", {"pass": 1}),
                       ("source", "MIGRATION", {"status": "active"}),
                       ("source", "MIGRATION_PASS", {"pass": 2})]))
    verdict = forecast(history, build_context(source, dest, ((1.0, 24e6), (10.0, 12e6)), events))
    return Snapshot((source, dest), events, {"source": history, "destination": History(10)}, 1,
                    forecast=verdict)


def with_source(snap: Snapshot, status: str, **info: object) -> Snapshot:
    """``snap`` with the source in ``status`` (and ``info`` over the fixed numbers)."""
    reply = info_reply(29) | {"status": status} | info
    source = replace(snap.source, info=parse_record("MigrationInfo", reply))
    return replace(snap, sides=(source, *snap.sides[1:]), seq=snap.seq + 1)


@asynccontextmanager
async def showing(size: tuple[int, int] = (120, 40), notifications: bool = False
                  ) -> AsyncIterator[tuple[MigrationApp, Any, Snapshot]]:
    """``async with showing() as (app, pilot, snap)``: the app (no backend) showing the fixed
    snapshot (and its notifications drawn when ``notifications``)."""
    app = MigrationApp(None)
    async with app.run_test(size=size, notifications=notifications) as pilot:
        snap = fixed_snapshot()
        app.apply_snapshot(snap)
        await pilot.pause()
        yield app, pilot, snap
