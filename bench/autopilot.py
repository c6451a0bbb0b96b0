"""Our policy against the orchestrators' on the same real lab migrations.

Each case (the Linux guest's workloads and the tiny guest's no-converge, on a capped link
whose room above the cap the objectives name) runs under every policy: the same guest, the
same link, the same objectives; the presets' timers are scaled by one factor, the same for
all and printed (theirs are per GiB of large guests). Per run: completed or not, total
time, downtime, the most throttle and the seconds throttled, bytes sent, the acts taken.

Targets (issue 29): ours completes every run any preset completes; on runs every policy
completes, its median total time is at most 0.8 of the best preset's and never more than
none's on a run that converges by itself; downtime within the objective in every run; it
never aborts a run that completes with no policy.

    python bench/autopilot.py                 # every case (about an hour here)
    python bench/autopilot.py --quick         # the tiny guest's cases, three policies
    python bench/autopilot.py --only tiny-no-converge --policies qmigtui,nova
    python bench/autopilot.py --repeat 3      # each figure as median [lowest..highest]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import spread

from qmigtui.control.autopilot import Autopilot, Step
from qmigtui.control.rig import Rig
from qmigtui.lab.pair import LabConfig
from qmigtui.model.records import parse_record
from qmigtui.policy.catalog import POLICIES, make
from qmigtui.policy.decision import Act
from qmigtui.policy.objectives import Objectives

MiB = 1 << 20
LIMIT_S = 120.0  # a run still going after this is counted as not completed (and cancelled)
RESULTS = Path(__file__).resolve().parent / "results" / "autopilot.json"
SCALE = 0.05  # the presets' timers: nova's 800 s per GiB becomes 40 s per GiB


@dataclass(frozen=True)
class Case:
    name: str
    lab: dict[str, Any]
    capabilities: tuple[tuple[str, bool], ...] = (("postcopy-ram", True),)


def linux(workload: str, bw_mib: int) -> dict[str, Any]:
    return dict(mem_mib=512, guest="linux", workload=workload, bandwidth=bw_mib * MiB)


CASES = [
    Case("tiny-converges", dict(mem_mib=256, working_set_mib=16, dirty_rate_mib_s=8, bandwidth=20 * MiB)),
    Case("tiny-no-converge", dict(mem_mib=256, working_set_mib=64, dirty_rate_mib_s=40, bandwidth=20 * MiB)),
    Case("tiny-slow-link", dict(mem_mib=128, working_set_mib=32, dirty_rate_mib_s=12, bandwidth=8 * MiB)),
    *(Case(f"linux-{w}", linux(w, 32))
      for w in ("writer", "fast-writer", "hot-rewrite", "random", "idle-cache", "bursty")),
]
QUICK = ("tiny-converges", "tiny-no-converge", "tiny-slow-link")
OBJECTIVES = Objectives(max_downtime_ms=500, postcopy=True, abort=True, link_bytes_per_s=256 * MiB,
                        time_scale=SCALE)


@dataclass
class Result:
    case: str
    policy: str
    completed: bool
    total_s: float
    downtime_ms: float
    max_throttle: float
    throttled_s: float
    sent_bytes: float
    acts: list[str]
    notes: list[str]  # acts not done (and why), a stand-down, how it ended


async def one(case: Case, policy: str, objectives: Objectives) -> Result:
    rig = await Rig.start(LabConfig(**case.lab), interval=0.5, capabilities=dict(case.capabilities))
    steps: list[Step] = []
    pilot = Autopilot(rig.controller, make(policy, objectives), on_step=steps.append)
    throttle, throttled, last = 0.0, 0.0, time.monotonic()
    try:
        pilot.engage()
        await pilot.prepare()
        await rig.controller.start_migration()
        started = time.monotonic()
        while time.monotonic() - started < LIMIT_S:
            await asyncio.sleep(0.25)
            src = rig.watcher.snapshot.source
            now = time.monotonic()
            level = (src.info.number("cpu-throttle-percentage") or 0) if src.info else 0
            throttle, throttled = max(throttle, level), throttled + (now - last if level else 0)
            last = now
            if src.status.ended:
                break
        src = rig.watcher.snapshot.source
        if not src.status.ended:
            await pilot.disengage()
            await rig.controller.cancel()
        # the final numbers asked afresh: the snapshot may hold the poll from before the end
        info = parse_record("MigrationInfo", await rig.source.execute("query-migrate"))
        num = info.number
        return Result(case.name, policy, info.text("status") == "completed",
                      (num("total-time") or math.nan) / 1000, float(num("downtime") or math.nan),
                      throttle, throttled, float(num("ram.transferred") or math.nan),
                      [f"{s.decision.act.value}{':' + s.decision.target if s.decision.target else ''}"
                       for s in steps if s.decision.changes_vm and s.outcome == "ok"],
                      [f"{s.decision.act.value} {s.decision.target}: {s.outcome}" for s in steps
                       if s.decision.changes_vm and s.outcome != "ok"]
                      + [f"stood down: {s.decision.target}" for s in steps
                         if s.decision.act is Act.STAND_DOWN]
                      + [f"ended {info.text('status')}"])
    finally:
        await pilot.disengage()
        await rig.close()


def grouped(results: list[Result]) -> dict[str, dict[str, list[Result]]]:
    by_case: dict[str, dict[str, list[Result]]] = {}
    for r in results:
        by_case.setdefault(r.case, {}).setdefault(r.policy, []).append(r)
    return by_case


def table(results: list[Result]) -> None:
    """One row per case and policy: runs completed, then medians [lowest..highest]."""
    print(f"\n| case | policy | completed | total s | downtime ms | most throttle % | "
          f"throttled s | MiB sent | acts (first run) |\n|{' --- |' * 9}")
    for case, runs in grouped(results).items():
        for policy, rs in runs.items():
            acts = rs[0].acts
            print(f"| {case} | {policy} | {sum(r.completed for r in rs)} of {len(rs)} | "
                  f"{spread([r.total_s for r in rs if r.completed])} | "
                  f"{spread([r.downtime_ms for r in rs if r.completed], '{:.0f}')} | "
                  f"{spread([r.max_throttle for r in rs], '{:.0f}')} | "
                  f"{spread([r.throttled_s for r in rs])} | "
                  f"{spread([r.sent_bytes / MiB for r in rs], '{:.0f}')} | "
                  f"{', '.join(acts[:4])}{' ...' if len(acts) > 4 else ''} |")


def verdicts(results: list[Result], objectives: Objectives) -> None:
    """The issue's targets, on each case's median (a case counts as completed by a policy
    when most of its runs completed)."""
    ours_all, ratios, never_slower, no_abort = True, [], True, True
    for runs in grouped(results).values():
        done = {p: sum(r.completed for r in rs) * 2 > len(rs) for p, rs in runs.items()}
        total = {p: statistics.median([r.total_s for r in rs if r.completed] or [math.nan])
                 for p, rs in runs.items()}
        if "qmigtui" not in runs:
            continue
        if any(d for p, d in done.items() if p != "qmigtui") and not done["qmigtui"]:
            ours_all = False
        presets = [p for p in runs if p not in ("qmigtui", "none")]
        if all(done.values()) and presets:
            ratios.append(total["qmigtui"] / min(total[p] for p in presets))
        if done.get("none"):
            never_slower &= total["qmigtui"] <= total["none"]
            no_abort &= done["qmigtui"]
    downtime_ok = all(r.downtime_ms <= objectives.max_downtime_ms for r in results
                      if r.policy == "qmigtui" and r.completed)
    print(f"\nours completes every run a preset completes: {'yes' if ours_all else 'NO'}")
    if ratios:
        print(f"ours / best preset, median total time, cases every policy completes: "
              f"{spread(ratios, '{:.2f}')} (target <= 0.8) over {len(ratios)} cases")
    print(f"ours never slower than none where none completes: {'yes' if never_slower else 'NO'}")
    print(f"ours never ends a run that completes with no policy without completing it: "
          f"{'yes' if no_abort else 'NO'}")
    print(f"our downtime within {objectives.max_downtime_ms:g} ms in every run: "
          f"{'yes' if downtime_ok else 'NO'}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"only {', '.join(QUICK)}; qmigtui, nova, none")
    ap.add_argument("--only", help="one case by name")
    ap.add_argument("--policies", help=f"comma-separated, of {', '.join(POLICIES)}")
    ap.add_argument("--scale", type=float, default=SCALE,
                    help=f"the presets' timers x this (default {SCALE})")
    ap.add_argument("--repeat", type=int, default=1, help="run each case and policy N times")
    ap.add_argument("--out", type=Path, default=RESULTS, help=f"the runs, as JSON ({RESULTS})")
    ap.add_argument("--reuse", type=Path, nargs="+", help="print the table of saved runs instead")
    args = ap.parse_args()
    cases = [c for c in CASES if (not args.only or c.name == args.only)
             and (not args.quick or c.name in QUICK)]
    policies = (args.policies.split(",") if args.policies else
                ["qmigtui", "nova", "none"] if args.quick else list(POLICIES))
    objectives = replace(OBJECTIVES, time_scale=args.scale)
    print(f"objectives: {objectives}")
    print(f"the presets' timers are scaled by {args.scale:g} (the same for all)")
    if args.reuse:
        results = [Result(**r) for path in args.reuse for r in json.loads(path.read_text())]
        table(results)
        verdicts(results, objectives)
        return
    results = []
    for case, _repeat, policy in itertools.product(cases, range(args.repeat), policies):
        r = await one(case, policy, objectives)
        results.append(r)
        print(f"{case.name:<20} {policy:<15} {'completed' if r.completed else 'not completed':<14} "
              f"{r.total_s:6.1f} s  downtime {r.downtime_ms:.0f} ms  acts {len(r.acts)}  "
              f"{'; '.join(r.notes)}", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps([asdict(x) for x in results], indent=1))
    table(results)
    verdicts(results, objectives)


if __name__ == "__main__":
    asyncio.run(main())
