"""What a recording says happened, as facts for a post-mortem: the source's series over the
whole migration, the verdict over time, state changes, pass starts, what was sent and by
whom, the autopilot's acts, and the totals. Played through the same watcher and forecast
as the app (fast, nothing sent), so the report and the screen never disagree."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qmigtui.desk.opening import open_replay
from qmigtui.model.commands import is_query
from qmigtui.record.format import Reader, RecordingError
from qmigtui.watch.snapshot import Snapshot

SPEED = 10_000.0  # a recording's hour in well under a second of waiting
SERIES = ("remaining", "throughput", "dirty_rate", "throttle", "postcopy_requests")
SET_UP = ("qmp_capabilities",)  # the handshake, not an act


@dataclass(frozen=True)
class Mark:
    """Something that happened at one time: ``kind`` is status, pass, sent, decision or verdict."""

    t: float  # seconds from the recording's start
    kind: str
    side: str
    text: str  # the status, the verdict, the command; already cleaned by the reader
    by: str = ""  # who sent it (operator, autopilot, measuring), where the recording says
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Story:
    path: str
    qemu: dict[str, str]  # per side, the QEMU version the recording names
    t: list[float] = field(default_factory=list)  # the source's samples, seconds from the start
    series: dict[str, list[float]] = field(default_factory=dict)  # bytes, bytes/s, percent, count
    marks: list[Mark] = field(default_factory=list)
    totals: dict[str, dict[str, float | str | None]] = field(default_factory=dict)  # per side
    warning: str | None = None  # a last line cut short

    def of(self, kind: str) -> list[Mark]:
        return [m for m in self.marks if m.kind == kind]


async def gather(path: str | Path) -> Story:
    """Play the recording to its end and keep what the report shows; RecordingError (one line)
    when it is not a recording or breaks on the way."""
    reader = Reader(str(path))  # the header: a file that is no recording fails here
    story = Story(str(path), {name: str(info.get("qemu") or "?") for name, info in reader.sides.items()})
    start = _first_time(reader)
    desk = await open_replay(path, SPEED)
    player: Any = desk.player
    last: dict[str, str] = {}

    def on_snapshot(snap: Snapshot) -> None:
        for side in snap.sides:
            if last.get(side.name) != str(side.status):
                last[side.name] = str(side.status)
                story.marks.append(Mark(_at(snap, start), "status", side.name, str(side.status)))
        f = snap.forecast
        if f is not None and last.get("verdict") != str(f.verdict):
            last["verdict"] = str(f.verdict)
            story.marks.append(Mark(_at(snap, start), "verdict", "source", str(f.verdict),
                                    detail={"eta_s": f.eta}))
    desk.subscribe(on_snapshot)
    try:
        await player.ended.wait()
        for _ in range(50):  # the answers still due
            await asyncio.sleep(0.01)
        if player.error is not None:
            raise RecordingError(str(player.warning or player.error))
        story.warning = player.warning
        _series(story, desk.snapshot, start)
        story.totals = _totals(desk.snapshot)
    finally:
        await desk.close()
    story.marks += _recorded_marks(Reader(str(path)), start)
    story.marks.sort(key=lambda m: m.t)
    return story


def _first_time(reader: Reader) -> float:
    for entry in reader.entries():
        return entry.t
    raise RecordingError(f"{reader.path}: a recording with no messages")


def _at(snap: Snapshot, start: float) -> float:
    history = snap.histories.get(snap.source.name)
    t = history.latest("t") if history is not None and len(history) else math.nan
    return t - start if math.isfinite(t) else 0.0


def _series(story: Story, snap: Snapshot, start: float) -> None:
    history = snap.histories.get(snap.source.name)
    if history is None or not len(history):
        return
    story.t = [t - start for t in history.series("t")]
    story.series = {"remaining": history.series("remaining"),
                    "throughput": history.throughput(),
                    "dirty_rate": history.dirty_bytes_rate(),
                    "throttle": history.series("throttle"),
                    "postcopy_requests": history.series("postcopy_requests")}
    passes = history.series("dirty_sync_count")
    for k in range(1, len(passes)):
        if passes[k] > passes[k - 1]:
            story.marks.append(Mark(story.t[k], "pass", "source", f"pass {int(passes[k])}"))


def _totals(snap: Snapshot) -> dict[str, dict[str, float | str | None]]:
    out: dict[str, dict[str, float | str | None]] = {}
    for side in snap.sides:
        info = side.info
        num = info.number if info is not None else (lambda _k: None)
        out[side.name] = {
            "status": str(side.status), "total-time": num("total-time"),
            "setup-time": num("setup-time"), "downtime": num("downtime"),
            "passes": num("ram.dirty-sync-count"), "transferred": num("ram.transferred"),
            "total": num("ram.total"), "postcopy-requests": num("ram.postcopy-requests")}
    return out


def _recorded_marks(reader: Reader, start: float) -> list[Mark]:
    """What was sent and by whom: the ``sent`` lines (as audited), or, in a recording made
    before those, the commands that change something (who sent them is not known); and the
    autopilot's acts with their reasons."""
    sent: list[Mark] = []
    commands: list[Mark] = []
    decisions: list[Mark] = []
    for e in reader.entries():
        t = e.t - start
        if e.kind == "sent":
            sent.append(Mark(t, "sent", e.side, str(e.msg.get("command", "?")), str(e.msg.get("by", "")),
                             {"arguments": e.msg.get("arguments"), "answer": e.msg.get("answer")}))
        elif e.kind == "command" and not is_query(str(e.msg.get("execute", "")), _args(e.msg)) \
                and e.msg.get("execute") not in SET_UP:
            commands.append(Mark(t, "sent", e.side, str(e.msg.get("execute", "?")), "",
                                 {"arguments": e.msg.get("arguments")}))
        elif e.kind == "decision" and e.msg.get("act") not in ("wait", None):
            decisions.append(Mark(t, "decision", e.side, str(e.msg.get("act")), "autopilot",
                                  {k: e.msg.get(k) for k in ("why", "target", "value", "outcome")}))
    return (sent or commands) + decisions


def _args(msg: dict[str, Any]) -> dict[str, Any] | None:
    args = msg.get("arguments")
    return args if isinstance(args, dict) else None
