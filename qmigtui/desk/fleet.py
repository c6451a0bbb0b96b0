"""Many migrations at once: one Desk per VM, and the row each shows in the fleet view.

A Fleet opens every source it is given (a named connection, an endpoint, or a glob of QMP
sockets), keeps the ones it could not reach as rows that say why, and answers the questions
of a host being drained: what needs a person first, and when will all of it be done.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import math
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from qmigtui.analysis.verdict import Verdict
from qmigtui.desk.facade import Desk
from qmigtui.model import units
from qmigtui.model.members import remaining as left_to_send
from qmigtui.model.states import RUNNING
from qmigtui.qmp.endpoint import is_glob, managed_name
from qmigtui.watch import crowd
from qmigtui.watch.snapshot import Snapshot

# most urgent first: what needs a person, then what may, then what runs, then what is over
URGENCY = {"unreachable": 0, "postcopy-paused": 1, "failed": 2, "failing": 2, Verdict.STALLED: 3,
           Verdict.NOT_CONVERGING: 4, Verdict.AT_RISK: 5, Verdict.THROTTLING: 6,
           Verdict.SWITCHOVER: 7, Verdict.RECOVERING: 8, "running": 9, "idle": 10, "done": 11}


@dataclass(frozen=True)
class Source:
    """One migration to watch: a name, and its source (and maybe destination) endpoint; a
    named connection of the configuration is one too."""

    name: str
    source: str
    destination: str | None = None
    read_only: bool = False
    interval: float | None = None  # seconds between polls, where the configuration says


@dataclass
class Member:
    """A source of the fleet: its desk once open, or why it could not be opened."""

    source: Source
    desk: Desk | None = None
    error: str = ""
    _row: tuple[tuple[object, ...], FleetRow] | None = field(default=None, repr=False, compare=False)

    def row(self) -> FleetRow:
        """Its row, made again only when what it is made of changed (a fleet of two hundred
        is drawn several times a second; each VM's snapshot comes once a second)."""
        desk = self.desk
        key: tuple[object, ...] = (self.error,) if desk is None else (
            desk.snapshot, desk.autopilot.name, desk.autopilot.engaged)
        if self._row is None or not _same(self._row[0], key):
            self._row = (key, row_of(self))
        return self._row[1]


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    """The same objects (a new snapshot is a new object: never compared member by member)."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class FleetRow:
    """What the fleet view shows of one migration (plain data, sorted and filtered as is)."""

    name: str
    route: str
    state: str
    progress: float | None  # 0..1 of guest RAM sent at least once; None when not known
    throughput: float | None  # bytes/s
    verdict: str
    eta: float | None  # seconds
    urgency: int
    total_time: float | None = None  # ms, of a migration that is over
    autopilot: str = ""  # the policy steering it, when one is engaged

    def matches(self, text: str) -> bool:
        text = text.lower()
        return any(text in field_.lower() for field_ in (self.name, self.route, self.state,
                                                         self.verdict, self.autopilot))


def row_of(member: Member) -> FleetRow:
    src = member.source
    route = src.source + (f" → {src.destination}" if src.destination else "")
    if member.desk is None and not member.error:
        return FleetRow(src.name, route, "connecting", None, None, "", None, URGENCY["running"])
    if member.desk is None:
        return FleetRow(src.name, route, "unreachable", None, None, member.error, None,
                        URGENCY["unreachable"])
    snap = member.desk.snapshot
    side = snap.source
    if not side.connected:
        return FleetRow(src.name, route, side.connection, None, None, side.reason or "",
                        None, URGENCY["unreachable"])
    info = side.info
    status = side.status
    f = snap.forecast
    verdict = str(f.verdict) if f is not None else ""
    remaining = left_to_send(info) if info is not None else None
    total = info.number("ram.total") if info is not None else None
    progress = None
    if status == "completed":
        progress = 1.0
    elif remaining is not None and total:
        progress = max(0.0, min(1.0, 1 - remaining / total))
    mbps = info.number("ram.mbps") if info is not None else None
    throughput = mbps * 1e6 / 8 if mbps is not None and status in RUNNING else None
    return FleetRow(src.name, route, status, progress, throughput, verdict,
                    f.eta if f is not None and status in RUNNING else None,
                    _urgency(status, f.verdict if f is not None else None),
                    info.number("total-time") if info is not None and status == "completed" else None,
                    member.desk.autopilot.name if member.desk.autopilot.engaged is not None else "")


def _urgency(status: str, verdict: Verdict | None) -> int:
    if status in ("postcopy-paused", "failed", "failing"):
        return URGENCY[status]
    if verdict is not None and verdict in URGENCY:
        return URGENCY[verdict]
    if status in RUNNING:
        return URGENCY["running"]
    return URGENCY["done"] if status in ("completed", "cancelled") else URGENCY["idle"]


SORTS: dict[str, Callable[[FleetRow], tuple[object, ...]]] = {
    "urgency": lambda r: (r.urgency, r.eta if r.eta is not None else math.inf, r.name),
    "name": lambda r: (r.name,),
    "eta": lambda r: (r.eta is None, r.eta or 0.0, r.name),
    "throughput": lambda r: (-(r.throughput or 0.0), r.name),
}


def arrange(rows: list[FleetRow], sort: str = "urgency", text: str = "") -> list[FleetRow]:
    """The rows to show: those matching ``text``, in the chosen order."""
    return sorted((r for r in rows if not text or r.matches(text)), key=SORTS[sort])


def evacuation(rows: list[FleetRow]) -> str:
    """The whole drain in one line: how many run, wait and are done, and when all will be,
    at the concurrency in use (waiting ones take the average time of those done so far)."""
    running = [r for r in rows if r.state in RUNNING]
    waiting = [r for r in rows if r.state in ("none", "")]
    done = [r for r in rows if r.state == "completed"]
    text = f"{len(rows)} VMs: {len(running)} migrating, {len(waiting)} waiting, {len(done)} done"
    if not running and not waiting:
        return text
    etas = [r.eta for r in running if r.eta is not None and math.isfinite(r.eta)]
    if len(etas) < len(running):
        return text + "; the whole drain's end: not known yet (a running migration has no ETA)"
    lasts = [r.total_time / 1000 for r in done if r.total_time]
    concurrency = max(1, len(running))
    if waiting and not lasts:
        return text + "; the whole drain's end: known once one migration completed"
    per = statistics.median(lasts) if lasts else 0.0
    rounds = math.ceil(len(waiting) / concurrency)
    total = max(etas, default=0.0) + rounds * per
    return (text + f"; all done in ~{units.format_ms(total * 1000)} at {concurrency} at a time"
            + (f" (each waiting one ~{units.format_ms(per * 1000)})" if waiting else ""))


Opener = Callable[[Source], Awaitable[Desk]]
RETRY_S = 10.0  # seconds between tries of a member that could not be opened


@dataclass
class Fleet:
    """The members, in the order given; each opened in the background (``open_all``), so the
    view shows every row at once, "connecting" until its desk is there."""

    members: list[Member] = field(default_factory=list)
    opener: Opener | None = None
    _listeners: list[Callable[[Member, Snapshot], None]] = field(default_factory=list)

    @classmethod
    def of(cls, sources: list[Source], opener: Opener) -> Fleet:
        return cls([Member(s) for s in sources], opener)

    def rows(self) -> list[FleetRow]:
        return [m.row() for m in self.members]

    def subscribe(self, listener: Callable[[Member, Snapshot], None]) -> None:
        """Every snapshot of every member, as it comes (events reach the view at once)."""
        self._listeners.append(listener)
        for m in self.members:
            if m.desk is not None:
                self._forward(m, listener)

    def _forward(self, member: Member, listener: Callable[[Member, Snapshot], None]) -> None:
        assert member.desk is not None
        member.desk.subscribe(lambda snap: listener(member, snap))

    async def open_all(self, concurrency: int = 16, retry: float | None = RETRY_S) -> None:
        """Open every member (at most ``concurrency`` at once); one that cannot be opened
        stays as a row saying why, and is tried again every ``retry`` seconds (a VM whose
        monitor or host comes later joins the view by itself; None: tried once)."""
        assert self.opener is not None
        opener, gate = self.opener, asyncio.Semaphore(concurrency)
        untried, holding = len(self.members), crowd.hold()  # every state before any schema

        def tried() -> None:
            nonlocal untried
            untried -= 1
            if not untried:
                crowd.release(holding)

        async def one(member: Member) -> None:
            first = True
            while True:
                async with gate:
                    try:
                        member.desk = await opener(member.source)
                        break
                    except Exception as e:  # shown in its row: one bad host must not hide the others
                        error = str(e) or type(e).__name__
                        if retry is not None:
                            error += f" (trying again every {retry:g} s)"
                    finally:
                        if first:
                            first = False
                            tried()
                if error != member.error:
                    member.error = error
                    for listener in self._listeners:
                        listener(member, Snapshot((), (), {}))
                if retry is None:
                    return
                await asyncio.sleep(retry)
            member.error = ""
            for listener in self._listeners:
                self._forward(member, listener)
                listener(member, member.desk.snapshot)
        try:
            await asyncio.gather(*(one(m) for m in self.members))
        finally:
            crowd.release(holding)

    async def close(self) -> None:
        for m in self.members:
            if m.desk is not None:
                with contextlib.suppress(Exception):
                    await m.desk.close()


def expand(texts: list[str], connections: dict[str, Source]) -> list[Source]:
    """What the operator gave, as sources: a named connection, a glob of QMP sockets (each
    named by its file, with its directory when two share a name), or an endpoint."""
    out: list[Source] = []
    for text in texts:
        if text in connections:
            out.append(connections[text])
        elif is_glob(text):
            paths = sorted(glob.glob(text.removeprefix("unix:")))
            if not paths:
                raise ValueError(f"{text}: no socket matches")
            out += [Source(_stem(p), p) for p in paths]
        else:
            out.append(Source(_stem(text), text))
    names = [s.name for s in out]
    return [replace(s, name=_stem(s.source, parent=True))
            if names.count(s.name) > 1 and s.name == _stem(s.source) else s for s in out]


def _stem(text: str, parent: bool = False) -> str:
    """A short name: a socket's file name (with its directory when ``parent``), a TCP
    endpoint as written, an ssh:// one as host:file."""
    if (name := managed_name(text)) is not None:
        return name
    if text.startswith("ssh://"):
        host = text[6:].split("/", 1)[0].rsplit("@", 1)[-1]
        return f"{host}:{_stem('/' + text[6:].split('/', 1)[-1], parent)}"
    if text.startswith("tcp:") or ("/" not in text and ":" in text):
        return text.removeprefix("tcp:")
    path = text.removeprefix("unix:").rstrip("/")
    parts = path.split("/")
    stem = parts[-1].rsplit(".", 1)[0] or parts[-1]
    return f"{parts[-2]}/{stem}" if parent and len(parts) > 1 else stem


async def open_fleet(sources: list[Source], opener: Opener, concurrency: int = 16) -> Fleet:
    """Every source opened (for scripts and benches; the app shows the rows while they open)."""
    fleet = Fleet.of(sources, opener)
    await fleet.open_all(concurrency, retry=None)
    return fleet
