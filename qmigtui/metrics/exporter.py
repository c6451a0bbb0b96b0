"""The exporter: the last snapshot of every watched VM (and what the ledger keeps) served to
Prometheus over HTTP. A scrape reads what is already there, so a slow or dead endpoint never
delays it; loopback unless the operator says otherwise."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric

from qmigtui.desk.facade import Desk
from qmigtui.desk.fleet import Fleet, Member
from qmigtui.metrics.families import Watched, families
from qmigtui.metrics.ledger import Ledger
from qmigtui.metrics.serving import Exposition, serve
from qmigtui.watch.snapshot import Snapshot

DEFAULT_LISTEN = "127.0.0.1:9814"


class Exporter:
    """Collects for the registry (prometheus_client calls ``collect`` on each scrape)."""

    def __init__(self, ledger: Ledger | None = None):
        self.ledger = ledger or Ledger()
        self._lock = threading.Lock()
        self._watched: dict[str, Watched] = {}
        self._autopiloted: set[str] = set()  # VMs whose autopilot's acts are counted
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)  # type: ignore[arg-type]
        self.exposition: Exposition | None = None
        self._server: Any = None

    def follow(self, fleet: Fleet) -> None:
        """Every VM of the fleet, from now on (those not reached yet exported as down)."""
        for m in fleet.members:
            self._take(m, m.desk.snapshot if m.desk is not None else None)
        fleet.subscribe(self._take)

    def desk(self, vm: str, desk: Desk, endpoints: dict[str, str]) -> None:
        """The app's one desk: its snapshots and its autopilot's acts, from now on."""
        desk.subscribe(lambda snap: self.see(vm, snap, endpoints))
        self._count_acts(vm, desk)
        desk.backend.closers.append(self.close)

    def see(self, vm: str, snap: Snapshot, endpoints: dict[str, str]) -> None:
        """One VM's latest snapshot."""
        with self._lock:
            self._watched[vm] = Watched(vm, snap, endpoints)
        self.ledger.observe(vm, snap)
        self._changed()

    def _changed(self) -> None:
        if self.exposition is not None:
            self.exposition.changed()

    def _take(self, member: Member, snap: Snapshot | None) -> None:
        src = member.source
        endpoints = {"source": src.source} | ({"destination": src.destination} if src.destination else {})
        if snap is None or not snap.sides:
            with self._lock:
                self._watched[src.name] = Watched(src.name, None, endpoints)
            self._changed()
            return
        if member.desk is not None:
            self._count_acts(src.name, member.desk)
        self.see(src.name, snap, endpoints)

    def _count_acts(self, vm: str, desk: Desk) -> None:
        if vm in self._autopiloted:
            return
        self._autopiloted.add(vm)
        def acted(step: Any) -> None:
            if step.decision.changes_vm:
                self.ledger.acted(vm, step.decision.act.value, step.decision.why.value)
                self._changed()
        desk.autopilot.on_step(acted)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            watched = list(self._watched.values())
        yield from families(watched)
        yield from self.ledger.families()

    def serve(self, listen: str = DEFAULT_LISTEN) -> tuple[str, int]:
        """Start serving on ADDRESS:PORT in a thread of its own; the address and port it took."""
        host, port = parse_listen(listen)
        self.exposition = Exposition(self.registry)
        self._server = serve(self.exposition, host, port)
        bound = self._server.server_address
        return str(bound[0]), int(bound[1])

    def close(self) -> None:
        if self.exposition is not None:
            self.exposition.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def parse_listen(text: str) -> tuple[str, int]:
    """``ADDRESS:PORT`` (``[v6]:PORT`` too); ValueError with one line."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {text!r}: expected ADDRESS:PORT, e.g. {DEFAULT_LISTEN}")
    return host.strip("[]") or "127.0.0.1", int(port)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
