"""``qmigtui autopilot SOURCE``: a policy steers one migration to its end, headless; one
line per decision; exit 0 when it completed, 1 when it failed or was cancelled, 2 on bad
input."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time

from qmigtui.cli.options import INTERVAL, Parser, fail
from qmigtui.control.autopilot import Step
from qmigtui.policy.presets import Preset

LIMIT_S = 24 * 3600.0  # a migration followed longer than this is left to itself


def autopilot_parser() -> argparse.ArgumentParser:
    from qmigtui.policy.catalog import DEFAULT, POLICIES
    p = Parser(prog="qmigtui autopilot",
               description="Steer one migration to completion with a policy, unattended.",
               epilog="Examples: qmigtui autopilot /run/src.qmp --dest /run/dst.qmp --uri "
                      "tcp:10.0.0.2:4444; qmigtui autopilot src.qmp --policy nova --dry-run; "
                      "qmigtui autopilot src.qmp --policy my-objectives.toml")
    p.add_argument("source", help="source QMP endpoint (as for qmigtui itself)")
    p.add_argument("--dest", help="destination QMP endpoint (needed to start and to recover)")
    p.add_argument("--policy", default=DEFAULT, metavar="NAME|FILE",
                   help=f"{', '.join(POLICIES)}, or a policy file (TOML: policy = NAME and "
                        f"[objectives]); default {DEFAULT}")
    p.add_argument("--uri", help="start the migration to this URI (else follow the one that runs)")
    p.add_argument("--dry-run", action="store_true",
                   help="decide and print, send nothing that changes a VM")
    p.add_argument("--read-only", action="store_true", help="send queries only (implies --dry-run)")
    p.add_argument("--interval", type=INTERVAL, default=0.5, help="seconds between polls (default 0.5)")
    p.add_argument("--record", metavar="FILE", help="record every QMP message and decision to FILE")
    p.add_argument("--audit-log", metavar="FILE", help="append every command sent to FILE")
    p.add_argument("--no-audit", action="store_true", help="keep no audit log")
    return p


def decision_line(step: Step) -> str:
    """A step in one line: what, why, the numbers behind it, and what came of it."""
    d = step.decision
    what = d.act.value + (f" {d.target}={d.value}" if d.target else "")
    numbers = " ".join(f"{k}={v:.4g}" for k, v in d.numbers if math.isfinite(v))
    outcome = f"  -> {step.outcome}" if step.outcome else ""
    return f"{what:<32} {d.why.value}  {numbers}{outcome}"


def _line(step: Step, started: float) -> str:
    return f"{time.monotonic() - started:7.1f}s  {decision_line(step)}"


async def _steer(ns: argparse.Namespace) -> int:
    from qmigtui.desk.opening import open_endpoints
    from qmigtui.model.actor import ACTOR, AUTOPILOT
    from qmigtui.policy.catalog import make
    policy = make(ns.policy)
    endpoints = [("source", ns.source)] + ([("destination", ns.dest)] if ns.dest else [])
    desk = await open_endpoints(endpoints, ns.interval, ns.read_only, ns.record, ns.audit_log,
                                no_audit=ns.no_audit)
    backend, started = desk.backend, time.monotonic()
    desk.autopilot.on_step(lambda step: print(_line(step, started), flush=True))  # and recorded
    try:
        status = backend.controller.status("source")
        if ns.uri is None and not desk.snapshot.source.status.running:
            return fail(f"no migration runs on {ns.source} (status {status}); give --uri to start one")
        print(f"policy {policy.name}: {', '.join(f'{k}={v}' for k, v in _objectives(policy))}",
              flush=True)
        desk.autopilot.engage(policy, dry_run=ns.dry_run or ns.read_only)
        if ns.uri is not None:
            await desk.autopilot.prepare()
            token = ACTOR.set(AUTOPILOT)  # started by the autopilot, and audited so
            try:
                await backend.controller.start_migration(ns.uri)
            finally:
                ACTOR.reset(token)
        deadline = time.monotonic() + LIMIT_S
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            status = desk.snapshot.source.status
            if status.ended:
                break
        print(f"{time.monotonic() - started:7.1f}s  {status}", flush=True)
        return 0 if status == "completed" else 1
    finally:
        await desk.close()  # the autopilot lets go first


def _objectives(policy: Preset) -> list[tuple[str, object]]:
    from dataclasses import fields
    obj = policy.objectives
    return [(f.name, ",".join(sorted(a.value for a in v)) if isinstance(v := getattr(obj, f.name), frozenset)
             else v) for f in fields(obj)]


def run_autopilot(args: list[str]) -> int:
    from qmigtui.control.outcomes import ControlError
    from qmigtui.qmp.errors import QmpError
    ns = autopilot_parser().parse_args(args)
    try:
        return asyncio.run(_steer(ns))
    except (ValueError, OSError, QmpError, ControlError) as e:
        return fail(str(e))
    except KeyboardInterrupt:
        print("qmigtui: autopilot stopped; the migration goes on as it is", file=sys.stderr)
        return 130
