"""The command line's parsers: the monitor's (``qmigtui SOURCE``) and each subcommand's."""

from __future__ import annotations

import argparse

from qmigtui import __version__
from qmigtui.cli.options import INTERVAL, PORT, SPEED, Parser, number_in, whole_in


def monitor_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="qmigtui",
        description="Watch and drive a QEMU live migration over QMP.",
        epilog="Other commands: qmigtui lab (a real local QEMU pair), "
               "qmigtui status ENDPOINT (one-shot), qmigtui replay FILE, qmigtui export FILE, "
               "qmigtui serve (the app in a browser), qmigtui fleet SOURCE... (many at once). "
               "See 'qmigtui COMMAND --help'.")
    p.add_argument("source", nargs="*",
                   help="source QMP endpoint (unix:/path, /path, tcp:HOST:PORT, HOST:PORT, "
                        "ssh://[USER@]HOST[:PORT]/path or libvirt:URI#DOMAIN), or the name of a "
                        "connection in the configuration file; more than one: the fleet view; "
                        "with --connect: the domain's name (none: pick one)")
    p.add_argument("--dest", help="destination QMP endpoint (same forms)")
    p.add_argument("--connect", metavar="URI",
                   help="watch a domain under libvirt at URI, as virsh takes it (qemu:///system, "
                        "qemu+ssh://HOST/system), through libvirt's API: no second monitor")
    p.add_argument("--dest-connect", metavar="URI",
                   help="with --connect: the destination host's libvirt (the same domain there; "
                        "where m sends it)")
    p.add_argument("--monitor", action="store_true",
                   help="with --connect: allow raw QMP through libvirt (full query-migrate, "
                        "capabilities, console); libvirt marks the domain tainted: custom-monitor")
    p.add_argument("--interval", type=INTERVAL, default=None,
                   help="seconds between polls, 0.05-3600 (default 1, or the configuration's)")
    p.add_argument("--read-only", action="store_true", help="send queries only; every action is off")
    p.add_argument("--config", metavar="FILE",
                   help="configuration file (default ~/.config/qmigtui/config.toml)")
    p.add_argument("--theme", default=None, help="colour theme")
    add_record_options(p)
    add_autopilot_option(p)
    add_metrics_option(p)
    p.add_argument("--version", action="version", version=f"qmigtui {__version__}")
    return p


def add_autopilot_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--autopilot", metavar="POLICY",
                   help="engage this policy (a name, or a policy file) at the start: it steers "
                        "the migration (A on the desk lets go); qmigtui autopilot --help lists them")


def add_metrics_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--metrics", metavar="ADDRESS:PORT",
                   help="also serve the migrations' metrics to Prometheus there (loopback unless "
                        "another address is given), as qmigtui exporter does")


def add_record_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--record", metavar="FILE",
                   help="record every QMP message of every side to FILE (JSON Lines, a new file)")
    p.add_argument("--append", action="store_true", help="with --record: add to an existing file")
    p.add_argument("--audit-log", metavar="FILE",
                   help="append every command the app sends, with QEMU's answer, to FILE "
                        "(default: audit.log in the user's state directory)")
    p.add_argument("--no-audit", action="store_true",
                   help="keep no audit log (otherwise nothing is sent while it cannot be written)")


def add_lab_options(p: argparse.ArgumentParser) -> None:
    from qmigtui.lab.pair import LabConfig
    d = LabConfig()  # one place for the lab's defaults
    from qmigtui.lab.workloads import WORKLOADS
    p.add_argument("--guest", default=d.guest, choices=("tiny", "linux"),
                   help="tiny: a 100-byte guest that dirties --working-set at --dirty-rate; linux: "
                        "a Debian kernel running --workload (built from Debian packages into a "
                        "cache on first use)")
    p.add_argument("--workload", default=d.workload, metavar="NAME",
                   help=f"what the Linux guest runs: {', '.join(WORKLOADS)} (default {d.workload}; "
                        "--list describes them)")
    p.add_argument("--mem", type=whole_in(16, 16384), default=None,
                   help=f"guest memory, MiB (default {d.mem_mib}; 512 for the Linux guest)")
    p.add_argument("--working-set", type=number_in(0.001, 16384, "MiB"), default=d.working_set_mib,
                   help=f"memory the guest keeps dirtying, MiB (default {d.working_set_mib:g})")
    p.add_argument("--dirty-rate", type=number_in(0, 100_000, "MiB/s"), default=d.dirty_rate_mib_s,
                   help=f"how fast the guest dirties it, MiB/s (default {d.dirty_rate_mib_s:g})")
    p.add_argument("--bandwidth", default=None,
                   help="max-bandwidth set on the source, e.g. 50M (bytes/s; default QEMU's)")
    p.add_argument("--accel", default=d.accel, choices=("tcg", "kvm"),
                   help=f"accelerator (default {d.accel})")
    p.add_argument("--disk", type=whole_in(0, 65536), default=d.disk_mib, metavar="MIB",
                   help="give each QEMU a qcow2 block node 'disk0' of this size, for snapshots "
                        "(default: none)")
    p.add_argument("--cpr", action="store_true",
                   help="guest memory in a shared memfd (aux-ram-share=on), so the CheckPoint-and-"
                        "Restart modes cpr-transfer and cpr-exec can be tried (QEMU 10.0+)")


def lab_parser() -> argparse.ArgumentParser:
    p = Parser(prog="qmigtui lab",
                                description="Start a real source and destination QEMU on this "
                                            "machine and watch a migration between them.")
    add_lab_options(p)
    add_autopilot_option(p)
    add_metrics_option(p)
    p.add_argument("--headless", action="store_true",
                   help="no app: migrate once and print status lines")
    stage = p.add_mutually_exclusive_group()
    stage.add_argument("--scenario", metavar="NAME",
                       help="stage a scenario on the real QEMU pair (see --list)")
    stage.add_argument("--exercise", metavar="NAME",
                       help="a guided exercise: a scenario, a task, and a verdict (see --list)")
    stage.add_argument("--list", action="store_true",
                       help="describe the scenarios, exercises and Linux guest workloads")
    stage.add_argument("--prepare", action="store_true",
                       help="build the Linux guest into its cache now (and print where), then exit")
    p.add_argument("--interval", type=INTERVAL, default=0.5,
                   help="seconds between polls, 0.05-3600 (default 0.5)")
    p.add_argument("--read-only", action="store_true",
                   help="watch only: the lab is set up, then nothing more is sent")
    p.add_argument("--no-hints", action="store_true",
                   help="hide the verdict's remedies (for exercises: find the way yourself)")
    p.add_argument("--theme", default=None, help="colour theme")
    add_record_options(p)
    return p


def replay_parser() -> argparse.ArgumentParser:
    p = Parser(prog="qmigtui replay",
                                description="Open the app on a recording, read-only: space pauses, "
                                            "+/- change speed, g jumps to a time, ] to the next "
                                            "state change.")
    p.add_argument("file", help="a recording made with --record (plain or gzip)")
    p.add_argument("--speed", type=SPEED, default=1.0,
                   help="recorded seconds per second, 0.01-10000 (default 1)")
    p.add_argument("--headless", action="store_true",
                   help="no app: play to the end and print each state change and the final numbers")
    p.add_argument("--autopilot", metavar="POLICY",
                   help="with --headless: print what POLICY (a name or a policy file) would have "
                        "decided along the recording; nothing is sent")
    p.add_argument("--theme", default=None, help="colour theme")
    return p


def serve_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="qmigtui serve",
        description="Serve the app to web browsers (for classroom demos): each browser that opens "
                    "the page gets its own run of 'qmigtui ARGS...'.",
        epilog="Examples: qmigtui serve lab --scenario stuck-postcopy; "
               "qmigtui serve replay examples/postcopy-recover.jsonl.gz")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=PORT, default=8000, help="port (default 8000)")
    p.add_argument("--public-url", metavar="URL",
                   help="the URL browsers reach this server at, when not the one they asked for "
                        "(a proxy in front)")
    p.add_argument("--max-sessions", type=whole_in(1, 64), default=4,
                   help="browsers served at once (default 4)")
    p.add_argument("--read-only", action="store_true",
                   help="each browser's app sends queries only (passed on to it)")
    p.add_argument("args", nargs=argparse.REMAINDER,
                   help="what each browser runs (default: lab, or a bundled replay without QEMU)")
    return p


def export_parser() -> argparse.ArgumentParser:
    p = Parser(prog="qmigtui export",
                                description="Write a recording's time series (every numeric field of "
                                            "query-migrate, per side) and its events as tables.")
    p.add_argument("file", help="a recording made with --record (plain or gzip)")
    form = p.add_mutually_exclusive_group(required=True)
    form.add_argument("--csv", action="store_true", help="PREFIX.csv and PREFIX-events.csv")
    form.add_argument("--json", action="store_true", help="PREFIX.json")
    p.add_argument("-o", "--output", metavar="PREFIX",
                   help="where to write (default: the recording's name without its suffixes)")
    return p


def status_parser() -> argparse.ArgumentParser:
    p = Parser(prog="qmigtui status",
                                description="Print everything query-migrate returns, once.")
    p.add_argument("endpoint", help="QMP endpoint: unix:/path, /path, tcp:HOST:PORT or HOST:PORT")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--capabilities", action="store_true", help="print capabilities instead")
    what.add_argument("--parameters", action="store_true", help="print parameters instead")
    p.add_argument("--json", action="store_true", help="print QEMU's reply as JSON")
    p.add_argument("--timeout", type=number_in(0.1, 600, "seconds"), default=3.0,
                   help="seconds to wait for QEMU (default 3)")
    return p
