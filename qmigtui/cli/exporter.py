"""``qmigtui exporter SOURCE... [--listen ADDRESS:PORT]``: metrics of every watched migration
for Prometheus, headless, through read-only sessions (nothing that changes a VM; no
dirty-rate measurement)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from qmigtui.cli.fleet import FleetOptions, fleet_opener, resolve_sources
from qmigtui.cli.options import INTERVAL, Parser
from qmigtui.desk.facade import Desk
from qmigtui.desk.fleet import Source

if TYPE_CHECKING:
    from qmigtui.metrics.exporter import Exporter


def exporter_parser() -> Parser:
    from qmigtui.metrics.exporter import DEFAULT_LISTEN
    from qmigtui.metrics.ledger import HOLD_S
    p = Parser(prog="qmigtui exporter",
               description="Serve metrics of every watched migration to Prometheus (OpenMetrics), "
                           "read-only.")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="what qmigtui fleet takes: configured names, endpoints, globs, ssh://, "
                        "libvirt:URI[#DOMAIN]")
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="ADDRESS:PORT",
                   help=f"where to serve /metrics (default {DEFAULT_LISTEN}, loopback)")
    p.add_argument("--hold", type=float, default=HOLD_S, metavar="SECONDS",
                   help=f"how long a finished migration's numbers stay (default {HOLD_S:g})")
    p.add_argument("--interval", type=INTERVAL, default=None, help="seconds between polls (default 1)")
    p.add_argument("--config", metavar="FILE", help="configuration file")
    p.add_argument("--dest-connect", metavar="URI",
                   help="for libvirt: sources: the destination host's libvirt")
    return p


def run_exporter(args: list[str]) -> int:
    from qmigtui.metrics.exporter import is_loopback, parse_listen
    from qmigtui.qmp.errors import QmpError
    ns = exporter_parser().parse_args(args)
    options = FleetOptions(ns.sources, ns.interval, read_only=True, config=ns.config,
                           no_audit=True, dest_connect=ns.dest_connect)
    try:
        host, _port = parse_listen(ns.listen)
        if ns.hold < 0:
            raise ValueError(f"--hold {ns.hold:g}: expected 0 or more seconds")
        sources, cfg = resolve_sources(options)
    except (ValueError, OSError, QmpError) as e:
        print(f"qmigtui: {e}", file=sys.stderr)
        return 2
    for warning in cfg.warnings:
        print(f"qmigtui: {warning}", file=sys.stderr)
    if not is_loopback(host):
        print(f"qmigtui: serving metrics on {host}, not loopback: anyone who reaches it reads "
              "every watched migration (names, addresses, numbers)", file=sys.stderr)
    try:
        return asyncio.run(_serve(options, sources, ns.listen, ns.hold, ns.interval or cfg.interval or 1.0))
    except OSError as e:
        print(f"qmigtui: cannot serve on {ns.listen}: {e.strerror or e}", file=sys.stderr)
        return 2


async def _serve(options: FleetOptions, sources: list[Source], listen: str, hold: float,
                 interval: float) -> int:
    from qmigtui.desk.fleet import Fleet
    from qmigtui.metrics.exporter import Exporter
    from qmigtui.metrics.ledger import Ledger
    from qmigtui.watch import crowd
    crowd.one_clock()  # no screen to keep quick: the fewest wake-ups
    fleet = Fleet.of(sources, fleet_opener(options, interval, None))
    exporter = Exporter(Ledger(hold))
    exporter.follow(fleet)
    host, port = exporter.serve(listen)
    print(f"qmigtui: metrics of {len(sources)} VMs at http://{host}:{port}/metrics", file=sys.stderr,
          flush=True)
    opening = asyncio.create_task(fleet.open_all())
    try:
        await asyncio.Event().wait()  # until a signal ends it
    finally:
        opening.cancel()
        exporter.close()
        await fleet.close()
    return 0


def start_metrics(listen: str | None) -> Exporter | None:
    """``--metrics`` on the app or the fleet view: the exporter serving before the app starts
    (so a bad address or a port taken is one line); a warning when not on loopback."""
    from qmigtui.metrics.exporter import Exporter, is_loopback, parse_listen
    if not listen:
        return None
    host, _port = parse_listen(listen)
    if not is_loopback(host):
        print(f"qmigtui: serving metrics on {host}, not loopback: anyone who reaches it reads "
              "every watched migration (names, addresses, numbers)", file=sys.stderr)
    exporter = Exporter()
    try:
        exporter.serve(listen)
    except OSError as e:
        raise ValueError(f"--metrics {listen}: cannot serve there ({e.strerror or e})") from None
    return exporter


def metered(open_desk: Callable[[], Awaitable[Desk]], exporter: Exporter | None, vm: str,
            endpoints: dict[str, str]) -> Callable[[], Awaitable[Desk]]:
    """The app's one desk, its snapshots and autopilot's acts fed to the exporter."""
    if exporter is None:
        return open_desk

    async def opened() -> Desk:
        desk = await open_desk()
        exporter.desk(vm, desk, endpoints)
        return desk
    return opened
