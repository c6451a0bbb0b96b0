"""``qmigtui fleet SOURCE...``: many migrations at once (config names, endpoints, globs)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from qmigtui.cli.config import Config
from qmigtui.cli.options import INTERVAL, Parser
from qmigtui.cli.parsers import add_autopilot_option, add_metrics_option
from qmigtui.desk.facade import Desk
from qmigtui.desk.fleet import Source


def fleet_parser() -> argparse.ArgumentParser:
    p = Parser(prog="qmigtui fleet",
               description="Watch many migrations at once, most urgent first; Enter opens one.",
               epilog="Examples: qmigtui fleet web-1 web-2 db-1 (configured connections); "
                      "qmigtui fleet '/run/qemu/*.qmp'; qmigtui fleet ssh://host/run/qemu/a.qmp; "
                      "qmigtui fleet libvirt:qemu+ssh://h1/system --dest-connect qemu+ssh://h2/system")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="a connection named in the configuration, an endpoint (unix:, tcp:, "
                        "ssh://, libvirt:URI#DOMAIN), a glob of QMP sockets, or libvirt:URI "
                        "(every domain there)")
    p.add_argument("--dest-connect", metavar="URI",
                   help="for libvirt: sources: the destination host's libvirt (each domain there)")
    p.add_argument("--interval", type=INTERVAL, default=None,
                   help="seconds between polls, 0.05-3600 (default 1, or the configuration's)")
    p.add_argument("--read-only", action="store_true", help="send queries only; every action is off")
    p.add_argument("--config", metavar="FILE", help="configuration file")
    p.add_argument("--theme", default=None, help="colour theme")
    p.add_argument("--audit-log", metavar="FILE", help="append every command sent to FILE")
    p.add_argument("--no-audit", action="store_true", help="keep no audit log")
    add_autopilot_option(p)
    add_metrics_option(p)
    return p


@dataclass(frozen=True)
class FleetOptions:
    """What the fleet view is started with, from ``qmigtui fleet`` or from several sources
    given to ``qmigtui`` itself."""

    sources: list[str]
    interval: float | None = None
    read_only: bool = False
    config: str | None = None
    theme: str | None = None
    audit_log: str | None = None
    no_audit: bool = False
    dest_connect: str | None = None
    autopilot: str | None = None  # a policy engaged on every VM as it is opened
    metrics: str | None = None  # ADDRESS:PORT to serve the fleet's metrics on

    @classmethod
    def parse(cls, args: list[str]) -> FleetOptions:
        return cls(**vars(fleet_parser().parse_args(args)))


def resolve_sources(ns: FleetOptions) -> tuple[list[Source], Config]:
    """The sources the operator named, each endpoint checked, and the configuration; ValueError,
    OSError or QmpError with one line."""
    from qmigtui.cli import config as configuration
    from qmigtui.desk.fleet import expand
    from qmigtui.qmp.endpoint import parse_endpoint

    cfg = configuration.load(Path(ns.config) if ns.config else None)
    sources = expand(_libvirt_domains(ns.sources), cfg.connections)
    if ns.dest_connect:
        sources = [replace(s, destination=f"libvirt:{ns.dest_connect}#{s.name}")
                   if s.source.startswith("libvirt:") and not s.destination else s for s in sources]
    for src in sources:
        for text in (src.source, src.destination):
            if text:
                parse_endpoint(text)
    return sources, cfg


def run_fleet(ns: FleetOptions) -> int:
    from qmigtui.cli.exporter import start_metrics
    from qmigtui.cli.run_app import run
    from qmigtui.control.audit import AuditLog
    from qmigtui.desk.fleet import Fleet
    from qmigtui.policy.catalog import make
    from qmigtui.qmp.errors import QmpError
    from qmigtui.ui.app import MigrationApp

    try:
        sources, cfg = resolve_sources(ns)
        if not ns.no_audit:
            AuditLog(ns.audit_log or cfg.audit_log)
        if ns.autopilot:
            if ns.read_only:
                raise ValueError("--autopilot acts on the migrations: not with --read-only")
            make(ns.autopilot)
    except (ValueError, OSError, QmpError) as e:
        print(f"qmigtui: {e}", file=sys.stderr)
        return 2
    for warning in cfg.warnings:
        print(f"qmigtui: {warning}", file=sys.stderr)
    interval = ns.interval or cfg.interval or 1.0

    try:
        metrics = start_metrics(ns.metrics)
    except ValueError as e:
        print(f"qmigtui: {e}", file=sys.stderr)
        return 2

    def fleet() -> Fleet:
        made = Fleet.of(sources, fleet_opener(ns, interval, ns.audit_log or cfg.audit_log))
        if metrics is not None:
            metrics.follow(made)
        return made
    app = MigrationApp(None, theme=ns.theme or cfg.theme, title=f"fleet: {len(sources)} VMs", keys=cfg.keys,
                       fleet_factory=fleet)
    try:
        return run(app)
    finally:
        if metrics is not None:
            metrics.close()


def fleet_opener(ns: FleetOptions, interval: float, audit: str | None
                 ) -> Callable[[Source], Awaitable[Desk]]:
    """How each VM of the fleet is opened: its endpoints watched, and with ``--autopilot``
    a policy of its own engaged at once (not on a read-only one)."""
    from qmigtui.desk.opening import open_endpoints
    from qmigtui.policy.catalog import make

    async def opener(src: Source) -> Desk:
        endpoints = [("source", src.source)] + ([("destination", src.destination)]
                                                if src.destination else [])
        desk = await open_endpoints(endpoints, interval, ns.read_only or src.read_only, None,
                                    audit, no_audit=ns.no_audit)
        if ns.autopilot and not desk.read_only:
            desk.autopilot.engage(make(ns.autopilot))
        return desk
    return opener


def _libvirt_domains(texts: list[str]) -> list[str]:
    """``libvirt:URI`` (no domain) as every domain there, those with a running job first."""
    import asyncio

    from qmigtui.qmp.libvirt_conn import list_domains
    out: list[str] = []
    for text in texts:
        if text.startswith("libvirt:") and "#" not in text:
            uri = text[8:]
            rows = asyncio.run(list_domains(uri))
            if not rows:
                raise ValueError(f"{uri}: no domains")
            out += [f"libvirt:{uri}#{name}" for name, _state, _job in rows]
        else:
            out.append(text)
    return out
