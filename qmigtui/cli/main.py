"""The ``qmigtui`` command: the monitor, ``lab``, ``status``, and friends."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from qmigtui.cli import parsers
from qmigtui.cli.options import fail as _fail
from qmigtui.cli.status import check_endpoints, run_status


def _run_serve(ns: argparse.Namespace) -> int:
    import shlex

    from qmigtui.cli.serve import ServeError, serve
    from qmigtui.lab.binary import qemu_available
    from qmigtui.record.replay import EXAMPLE
    args = ns.args or (["lab"] if qemu_available() else ["replay", str(EXAMPLE)])
    if ns.read_only and args[0] != "replay" and "--read-only" not in args:
        args = [args[0], "--read-only", *args[1:]] if args[0] == "lab" else [*args, "--read-only"]
    if ns.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"qmigtui: warning: serving on {ns.host}: whoever has the URL with its token drives "
              "the app (and, in lab mode, the lab)", file=sys.stderr)
    command = "exec " + shlex.join([sys.executable, "-m", "qmigtui", *args])  # the child is qmigtui
    try:
        serve(command, ns.host, ns.port, max_sessions=ns.max_sessions, public_url=ns.public_url,
              announce=lambda url: print(f"qmigtui: serving '{shlex.join(['qmigtui', *args])}' at "
                                         f"{url}", file=sys.stderr, flush=True))
    except ServeError as e:
        return _fail(str(e))
    return 0


def _autopilot(args: list[str]) -> int:
    from qmigtui.cli.autopilot import run_autopilot
    return run_autopilot(args)


def _report(args: list[str]) -> int:
    from qmigtui.cli.report import run_report
    return run_report(args)


def _exporter(args: list[str]) -> int:
    from qmigtui.cli.exporter import run_exporter
    return run_exporter(args)


def _fleet(args: list[str]) -> int:
    from qmigtui.cli.fleet import FleetOptions, run_fleet
    return run_fleet(FleetOptions.parse(args))


COMMANDS: dict[str, Callable[[list[str]], int]] = {  # qmigtui NAME ...; anything else: a source
    "lab": lambda args: _run_lab(parsers.lab_parser().parse_args(args)),
    "status": lambda args: run_status(parsers.status_parser().parse_args(args)),
    "replay": lambda args: _run_replay(parsers.replay_parser().parse_args(args)),
    "export": lambda args: _run_export(parsers.export_parser().parse_args(args)),
    "serve": lambda args: _run_serve(parsers.serve_parser().parse_args(args)),
    "fleet": _fleet,
    "autopilot": lambda args: _autopilot(args),
    "report": _report,
    "exporter": _exporter,
}
SUBCOMMANDS = tuple(COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    _signals_exit()
    try:
        command = COMMANDS.get(args[0]) if args else None
        if command is not None:
            return command(args[1:])
        return _run_monitor(parsers.monitor_parser().parse_args(args))
    except Interrupted as e:
        return 128 + e.signum
    except KeyboardInterrupt:
        return 128 + signal.SIGINT


class Interrupted(KeyboardInterrupt):
    """A signal that ends qmigtui (SIGTERM, SIGHUP): it unwinds like Ctrl-C, so cleanup runs,
    and the exit status says which (128 + its number: 129 HUP, 143 TERM)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _signals_exit() -> None:
    """SIGTERM and SIGHUP (an SSH disconnect) unwind like Ctrl-C, so cleanup runs."""
    def raise_interrupt(signum: int, frame: Any) -> None:
        raise Interrupted(signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, raise_interrupt)


def apply_config(ns: argparse.Namespace) -> list[str]:
    """Fill what the command line left open from the configuration (``qmigtui NAME`` picks a
    named pair); returns the warnings. Raises ValueError with one line."""
    from pathlib import Path

    from qmigtui.cli import config as configuration
    cfg = configuration.load(Path(ns.config) if ns.config else None)
    if isinstance(ns.source, list):  # one source (many go to the fleet view)
        ns.source = ns.source[0]
    named = cfg.connections.get(ns.source)
    bare = not any(c in ns.source for c in "/:") and not Path(ns.source).exists()
    if named is None and bare:  # neither a configured name nor an endpoint
        known = ", ".join(sorted(cfg.connections)) or "none"
        raise ValueError(f"{ns.source}: no such connection in the configuration (it names: "
                         f"{known}), and not a socket here")
    if named is not None:  # qmigtui NAME: a pair from the configuration
        ns.source, ns.dest = named.source, ns.dest or named.destination
        ns.read_only = ns.read_only or named.read_only
        if ns.interval is None:
            ns.interval = named.interval
    if ns.interval is None:
        ns.interval = cfg.interval if cfg.interval is not None else 1.0
    ns.theme = ns.theme or cfg.theme
    ns.audit_log = ns.audit_log or cfg.audit_log
    ns.keys = cfg.keys
    return list(cfg.warnings)


def _libvirt_sources(ns: argparse.Namespace) -> str | None:
    """--connect URI [DOMAIN] [--dest-connect URI2] as libvirt: endpoints; the domain picked
    from the list when not named. Returns a one-line problem, or None."""
    if ns.connect is None:
        if ns.dest_connect:
            return "--dest-connect goes with --connect URI"
        if ns.monitor and not any(s.startswith("libvirt:") for s in ns.source):
            return "--monitor goes with a domain under libvirt (--connect URI DOMAIN)"
        return None if ns.source else "give a source endpoint, a configured name, or --connect URI"
    if ns.dest or len(ns.source) > 1:
        return "--connect takes one domain; its destination is --dest-connect URI"
    domain = ns.source[0] if ns.source else _pick_domain(ns.connect)
    if domain is None:
        return "no domain chosen"
    if domain.startswith("error: "):
        return domain[7:]
    ns.source = [f"libvirt:{ns.connect}#{domain}"]
    ns.dest = f"libvirt:{ns.dest_connect}#{domain}" if ns.dest_connect else None
    if ns.monitor:
        print(f"qmigtui: --monitor: raw QMP goes through libvirt, which marks {domain} tainted "
              "(custom-monitor) from the first command", file=sys.stderr)
    return None


def _pick_domain(uri: str) -> str | None:
    """The domains of ``uri``, those with a running job first; the operator types one."""
    from qmigtui.qmp.errors import QmpError
    from qmigtui.qmp.libvirt_conn import list_domains
    try:
        rows = asyncio.run(list_domains(uri))
    except QmpError as e:
        return f"error: {e}"
    if not rows:
        return f"error: {uri}: no domains"
    print(f"{'DOMAIN':24} {'STATE':12} MIGRATION")
    for name, state, job in rows:
        print(f"{name:24} {state:12} {job or '-'}")
    if not sys.stdin.isatty():
        return f"error: name one: qmigtui --connect {uri} DOMAIN"
    try:
        chosen = input(f"domain [{rows[0][0]}]: ").strip() or rows[0][0]
    except EOFError:
        return None
    return chosen if chosen in {r[0] for r in rows} else f"error: {uri}: no domain named {chosen}"


def _run_monitor(ns: argparse.Namespace) -> int:
    from qmigtui.qmp.errors import QmpError
    if (problem := _libvirt_sources(ns)) is not None:
        return _fail(problem)
    if len(ns.source) > 1:  # many sources: the fleet view first
        if ns.dest or ns.record:
            return _fail("--dest and --record go with one source; for many, name their pairs "
                         "in the configuration")
        from qmigtui.cli.fleet import FleetOptions, run_fleet
        return run_fleet(FleetOptions(ns.source, ns.interval, ns.read_only, ns.config, ns.theme,
                                      ns.audit_log, ns.no_audit, autopilot=ns.autopilot))
    try:
        warnings = apply_config(ns)
    except ValueError as e:
        return _fail(str(e))
    for warning in warnings:
        print(f"qmigtui: {warning}", file=sys.stderr)
    endpoints = [("source", ns.source)] + ([("destination", ns.dest)] if ns.dest else [])
    if ns.interval <= 0:
        return _fail("--interval must be above 0")
    from qmigtui.qmp.endpoint import parse_endpoint
    from qmigtui.qmp.sessions import pair_problem
    try:
        if ns.dest and (problem := pair_problem(parse_endpoint(ns.source), parse_endpoint(ns.dest))):
            return _fail(problem)
        asyncio.run(check_endpoints(endpoints, ns.read_only))
    except (QmpError, ValueError) as e:
        return _fail(str(e))
    if (problem := _check_files(ns)) is not None or (problem := _policy_problem(ns)) is not None:
        return _fail(problem)
    from qmigtui.cli.exporter import start_metrics
    from qmigtui.cli.run_app import run_monitor
    try:
        metrics = start_metrics(ns.metrics)
    except ValueError as e:
        return _fail(str(e))
    return run_monitor(endpoints, interval=ns.interval, read_only=ns.read_only, theme=ns.theme,
                       record=ns.record, audit=ns.audit_log, append=ns.append,
                       no_audit=ns.no_audit, monitor=ns.monitor, keys=ns.keys,
                       autopilot=ns.autopilot, metrics=metrics)


def _policy_problem(ns: argparse.Namespace) -> str | None:
    """Why --autopilot cannot be engaged (an unknown policy, a bad file, read-only), or None."""
    if not getattr(ns, "autopilot", None):
        return None
    if ns.read_only:
        return "--autopilot acts on the migration: not with --read-only"
    from qmigtui.policy.catalog import make
    try:
        make(ns.autopilot)
    except ValueError as e:
        return str(e)
    return None


def _user_keys() -> dict[str, Any]:
    """[keys] of the user's configuration for the lab and replay (which read nothing else of
    it); what cannot be read is said in one line and changes no key."""
    from qmigtui.cli import config as configuration
    keys, warnings = configuration.keys_or_warning()
    for warning in warnings:
        print(f"qmigtui: {warning}", file=sys.stderr)
    return keys


def _check_files(ns: argparse.Namespace) -> str | None:
    """Fail before anything starts when the recording or the audit log cannot be written."""
    from qmigtui.control.audit import AuditLog
    from qmigtui.record.recorder import recording_target_problem
    if ns.record and (problem := recording_target_problem(ns.record, ns.append)) is not None:
        return problem
    if ns.no_audit:
        return None
    try:
        AuditLog(ns.audit_log)
    except OSError as e:
        return str(e)
    return None


def _run_replay(ns: argparse.Namespace) -> int:
    from qmigtui.record.format import Reader, RecordingError
    if ns.speed <= 0:
        return _fail("--speed must be above 0")
    try:
        reader = Reader(ns.file)
        reader.require_messages()
        for n, _ in enumerate(reader.entries()):  # the header and the opening lines, now;
            if n >= 1000:                         # later lines as the replay reaches them
                break
    except RecordingError as e:
        return _fail(str(e))
    if ns.autopilot and not ns.headless:
        return _fail("--autopilot on a replay goes with --headless (the app shows no plan yet)")
    if ns.headless:
        from qmigtui.cli.playback import play_headless
        from qmigtui.policy.catalog import make
        try:
            policy = make(ns.autopilot) if ns.autopilot else None
        except ValueError as e:
            return _fail(str(e))
        return play_headless(ns.file, ns.speed, policy)
    from qmigtui.cli.run_app import run_replay
    return run_replay(ns.file, speed=ns.speed, theme=ns.theme, keys=_user_keys())


def _run_export(ns: argparse.Namespace) -> int:
    from pathlib import Path

    from qmigtui.record.export import default_prefix, write_csv, write_json
    from qmigtui.record.format import Reader, RecordingError
    source = Path(ns.file)
    prefix = Path(ns.output) if ns.output else default_prefix(source)
    try:
        reader = Reader(source)
        reader.require_messages()
        written = write_csv(reader, prefix) if ns.csv else write_json(reader, prefix)
    except RecordingError as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(f"cannot write {prefix}: {e.strerror or e}")
    if reader.warning:
        print(f"qmigtui: {reader.warning}", file=sys.stderr)
    for path in written:
        print(path)
    return 0


LINUX_MEM_MIB = 512  # the Linux guest's memory unless --mem says otherwise


def _lab_config(ns: argparse.Namespace) -> Any:
    from qmigtui.lab import LabConfig
    from qmigtui.model.units import parse_size
    bandwidth = parse_size(ns.bandwidth) if ns.bandwidth else None
    mem = ns.mem or (LINUX_MEM_MIB if ns.guest == "linux" else LabConfig().mem_mib)
    return LabConfig(mem_mib=mem, working_set_mib=ns.working_set,
                     dirty_rate_mib_s=ns.dirty_rate, bandwidth=bandwidth, accel=ns.accel,
                     disk_mib=ns.disk, guest=ns.guest, workload=ns.workload, cpr=ns.cpr)


def _run_lab(ns: argparse.Namespace) -> int:
    from qmigtui.lab.pair import LabError
    from qmigtui.lab.workloads import WORKLOADS
    from qmigtui.training.exercises import EXERCISES
    from qmigtui.training.scenarios import SCENARIOS
    if ns.list:
        print("Linux guest workloads (qmigtui lab --guest linux --workload NAME):")
        for w in WORKLOADS.values():
            print(f"  {w.name:<16} {w.what}")
        print("scenarios (qmigtui lab --scenario NAME):")
        for sc in SCENARIOS.values():
            print(f"  {sc.name:<16} {sc.summary}")
        print("exercises (qmigtui lab --exercise NAME):")
        for ex in EXERCISES.values():
            print(f"  {ex.name:<16} {ex.task} (scenario {ex.scenario})")
        return 0
    if ns.scenario and ns.scenario not in SCENARIOS:
        return _fail(f"--scenario {ns.scenario}: no such scenario; known: {', '.join(SCENARIOS)}")
    if ns.exercise and ns.exercise not in EXERCISES:
        return _fail(f"--exercise {ns.exercise}: no such exercise; known: {', '.join(EXERCISES)}")
    if ns.headless and (ns.scenario or ns.exercise):
        return _fail("--scenario and --exercise need the app (drop --headless)")
    try:
        config = _lab_config(ns)
        config.validate()
    except (ValueError, LabError) as e:
        return _fail(str(e))
    if (problem := _check_files(ns)) is not None or (problem := _policy_problem(ns)) is not None:
        return _fail(problem)
    if config.linux or ns.prepare:
        from qmigtui.lab import linux_image
        try:
            image = linux_image.prepare(say=lambda line: print(f"qmigtui: {line}", file=sys.stderr))
        except linux_image.ImageError as e:
            return _fail(str(e))
        if ns.prepare:
            print(image.kernel.parent)
            return 0
    try:
        if ns.headless:
            from qmigtui.cli.lab_headless import run_headless
            return asyncio.run(run_headless(config, ns.interval, record=ns.record, append=ns.append,
                                            policy=ns.autopilot))
        from qmigtui.cli.exporter import start_metrics
        from qmigtui.cli.run_app import run_lab
        metrics = start_metrics(ns.metrics)
        return run_lab(config, interval=ns.interval, theme=ns.theme, record=ns.record,
                       audit=ns.audit_log, scenario=ns.scenario, exercise=ns.exercise,
                       read_only=ns.read_only, append=ns.append, no_audit=ns.no_audit,
                       hints=not ns.no_hints, keys=_user_keys(), autopilot=ns.autopilot,
                       metrics=metrics)
    except (LabError, ValueError) as e:
        return _fail(str(e))
