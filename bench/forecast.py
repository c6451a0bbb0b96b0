"""How good are the forecasts?  Real lab migrations, scored against what then happened.

Runs a matrix of lab migrations (working sets, dirty rates, bandwidths; one with
auto-converge, one rescued by postcopy, one rescued by the advice the app gives)
and prints, per run and overall:

- ETA error at 25 %, 50 % and 75 % of the real duration (converging runs);
- when "not converging" was first shown, against when the data could first show
  it (the first dirty-rate report, at the start of pass 2);
- when our stall detector fired, against the 96 %/40 s orchestrator rule on the
  same samples;
- false alarms: "not converging" or "stalled" on a run that converged by itself.

    python bench/forecast.py                 # run the matrix (about 8 minutes here)
    python bench/forecast.py --only converge-mid
    python bench/forecast.py --reuse bench/results/forecast.json   # score saved runs again
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qmigtui.analysis.forecast import Context, forecast
from qmigtui.analysis.history import FIELDS, History, Sample
from qmigtui.analysis.run import Run
from qmigtui.analysis.stall import reference_stall_time, stalled_pass
from qmigtui.lab.pair import LabConfig

MiB = 1 << 20
NOT_CONVERGING = ("not-converging", "stalled")
RESULTS = Path(__file__).resolve().parent / "results" / "forecast.json"


@dataclass
class Case:
    name: str
    lab: dict[str, Any]
    capabilities: dict[str, bool] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    converges: bool = True  # by itself, with no action from the operator (ETA is scored only then)
    rescue: str = ""  # "advice" | "postcopy": what the bench does once it is declared stuck
    stuck_for: float = 0.0  # seconds to watch a stuck run before rescuing it


MATRIX = [
    Case("converge-small", dict(mem_mib=256, working_set_mib=16, dirty_rate_mib_s=8, bandwidth=20 * MiB)),
    Case("converge-mid", dict(mem_mib=256, working_set_mib=64, dirty_rate_mib_s=12, bandwidth=20 * MiB)),
    Case("converge-fast-link", dict(mem_mib=256, working_set_mib=96, dirty_rate_mib_s=24,
                                    bandwidth=40 * MiB)),
    Case("converge-slow-link", dict(mem_mib=128, working_set_mib=32, dirty_rate_mib_s=6,
                                    bandwidth=10 * MiB)),
    Case("no-converge", dict(mem_mib=256, working_set_mib=64, dirty_rate_mib_s=40, bandwidth=20 * MiB),
         converges=False, rescue="advice", stuck_for=60),
    Case("auto-converge", dict(mem_mib=256, working_set_mib=64, dirty_rate_mib_s=40, bandwidth=20 * MiB),
         capabilities={"auto-converge": True}, converges=False, rescue="advice", stuck_for=10),
    Case("postcopy", dict(mem_mib=256, working_set_mib=64, dirty_rate_mib_s=40, bandwidth=20 * MiB),
         capabilities={"postcopy-ram": True}, converges=False, rescue="postcopy", stuck_for=5),
]


# -- running ----------------------------------------------------------------------


async def run_case(case: Case, interval: float) -> dict[str, Any]:
    from qmigtui.control.rig import Rig

    rig = await Rig.start(LabConfig(**case.lab), interval=interval,
                          capabilities=case.capabilities, parameters=case.parameters)
    rows: list[dict[str, Any]] = []
    actions: list[tuple[float, str]] = []
    try:
        rig.watcher.poke(config=True)
        await asyncio.sleep(interval * 2)
        measured = await rig.controller.measure_footprint()
        seen = [0]

        def on_snapshot(snap: Any) -> None:
            hist = snap.histories["source"]
            if hist.total_seen == seen[0] or snap.forecast is None:
                return
            seen[0] = hist.total_seen
            info = snap.source.info
            f = snap.forecast
            rows.append({"t": hist.latest("t"), "status": snap.source.status,
                         "sample": {k: hist.latest(k) for k in FIELDS},
                         "verdict": f.verdict, "eta": f.eta, "summary": f.summary,
                         "down": f.downtime_ms,
                         "total_time": info.number("total-time") if info is not None else None})

        rig.watcher.subscribe(on_snapshot)
        t0 = time.monotonic()
        await rig.controller.start_migration()
        stuck_at: float | None = None
        while time.monotonic() - t0 < 300:
            await asyncio.sleep(0.2)
            snap = rig.watcher.snapshot
            status = snap.source.status
            if status in ("completed", "failed", "cancelled"):
                break
            f = snap.forecast
            if f is not None and f.verdict in (*NOT_CONVERGING, "throttling") and stuck_at is None:
                stuck_at = time.monotonic()
            if case.rescue and stuck_at is not None and time.monotonic() - stuck_at >= case.stuck_for \
                    and f is not None and f.verdict in NOT_CONVERGING and not actions:
                if case.rescue == "postcopy":
                    await rig.controller.start_postcopy()
                    actions.append((time.monotonic(), "postcopy"))
                else:
                    tip = next(a for a in f.advice if a.action == "set-parameter"
                               and a.target == "downtime-limit")
                    await rig.controller.set_parameter("source", tip.target, tip.value)
                    actions.append((time.monotonic(), f"{tip.target}={tip.value}"))
        await asyncio.sleep(interval * 2)
        final = rig.watcher.snapshot.source
        walls = [e.qemu_time for e in rig.watcher.snapshot.events
                 if e.side == "source" and e.name == "MIGRATION_PASS"]
        return {"pass_walls": walls, "case": asdict(case), "t0": t0, "rows": rows, "actions": actions,
                "measured": [(m.seconds, m.bytes_per_s) for m in measured],
                "status": final.text("status"),
                "total_time": final.info.number("total-time") if final.info is not None else None,
                "downtime": final.info.number("downtime") if final.info is not None else None}
    finally:
        await rig.close()


# -- scoring ------------------------------------------------------------------------


def score(run: dict[str, Any]) -> dict[str, Any]:
    case = run["case"]
    rows = run["rows"]
    t0 = run["t0"]
    end = t0 + (run["total_time"] or 0) / 1000 if run["status"] == "completed" else math.nan
    first_action = run["actions"][0][0] if run["actions"] else math.inf
    out: dict[str, Any] = {"name": case["name"], "status": run["status"],
                           "duration": (end - t0) if not math.isnan(end) else math.nan,
                           "action": run["actions"][0][1] if run["actions"] else "",
                           "downtime": run["downtime"]}
    # ETA error at fractions of the real duration (only while nobody has acted)
    for frac in (0.25, 0.5, 0.75):
        key = f"eta{int(frac * 100)}"
        out[key] = math.nan
        if not case["converges"] or math.isnan(end):
            continue
        at = t0 + frac * (end - t0)
        row = next((r for r in reversed(rows) if r["t"] <= at), None)
        if row is not None and row["eta"] is not None:
            left = end - row["t"]
            out[key] = (row["eta"] - left) / left
            if frac == 0.5:
                out["down_pred"] = row.get("down")
    # when "not converging" was first shown, and when the data could first show it
    shown = next((r["t"] for r in rows if r["verdict"] in NOT_CONVERGING and r["t"] < first_action), None)
    pass2 = next((r["t"] for r in rows if (r["sample"]["dirty_sync_count"] or 0) >= 2), None)
    out["nc_shown"] = shown - t0 if shown is not None else math.nan
    out["nc_possible"] = pass2 - t0 if pass2 is not None else math.nan
    # a false alarm: stuck was shown, yet it completed with nobody acting
    out["false_alarm"] = shown is not None and run["status"] == "completed" and not run["actions"]
    # stall: ours (pass starts) vs the 96 %/40 s rule, on the samples before any action
    before = [r for r in rows if r["t"] < first_action and r["status"] == "active"]
    hist = History(max(2, len(before) + 1))
    for r in before:
        hist.append(Sample(r["sample"], r["status"]))
    ours = math.nan
    if before:
        run_cols = Run(hist)
        starts = run_cols.pass_starts(run.get("pass_walls", ()))
        k = stalled_pass(starts)
        if k is not None:
            ours = run_cols.col("t")[starts[k].index] - t0
    ref = reference_stall_time([r["t"] for r in before], [r["sample"]["remaining"] for r in before])
    out["stall_ours"] = ours
    out["stall_ref"] = ref - t0 if ref is not None else math.nan
    return out


def replay_verdicts(run: dict[str, Any]) -> list[tuple[float, str, float | None, float | None]]:
    """Forecasts again from the saved samples (to score a changed model without a lab)."""
    case = run["case"]
    hist = History(len(run["rows"]) + 2)
    out = []
    ctx_base = dict(downtime_limit_ms=float(case["parameters"].get("downtime-limit", 300)),
                    max_bandwidth=float(case["lab"].get("bandwidth") or math.nan),
                    capabilities=dict(case["capabilities"]),
                    commands=frozenset({"calc-dirty-rate"}),
                    measurements=tuple(tuple(m) for m in run["measured"]),
                    pass_walls=tuple(run.get("pass_walls", ())))
    for r in run["rows"]:
        if r["t"] >= (run["actions"][0][0] if run["actions"] else math.inf):
            break
        hist.append(Sample(r["sample"], r["status"]))
        f = forecast(hist, Context(status=r["status"], **ctx_base))  # type: ignore[arg-type]
        out.append((r["t"], f.verdict, f.eta, f.downtime_ms))
    return out


def _pct(v: float) -> str:
    return "   -  " if math.isnan(v) else f"{v * 100:+5.0f}%"


def _down(s: dict[str, Any]) -> str:
    """Predicted (at the midpoint) / real downtime."""
    pred, real = s.get("down_pred"), s.get("downtime")
    return f"{pred:.0f}/{real}" if pred is not None and real is not None else f"-/{real or '-'}"


def _sec(v: float) -> str:
    return "   - " if v is None or math.isnan(v) else f"{v:5.1f}"


def report(runs: list[dict[str, Any]], replay: bool) -> None:
    if replay:
        for run in runs:
            verdicts = replay_verdicts(run)
            for row, (_, verdict, eta, down) in zip(run["rows"], verdicts, strict=False):
                row["verdict"], row["eta"], row["down"] = verdict, eta, down
    scores = [score(r) for r in runs]
    print(f"{'run':<20} {'end':<10} {'dur s':>6} {'eta@25':>7} {'eta@50':>7} {'eta@75':>7} "
          f"{'down ms':>11} {'nc shown':>8} {'nc poss':>8} {'stall':>6} {'ref':>6}  rescue")
    for s in scores:
        print(f"{s['name']:<20} {s['status']:<10} {_sec(s['duration']):>6} {_pct(s['eta25']):>7} "
              f"{_pct(s['eta50']):>7} {_pct(s['eta75']):>7} {_down(s):>11} {_sec(s['nc_shown']):>8} "
              f"{_sec(s['nc_possible']):>8} {_sec(s['stall_ours']):>6} {_sec(s['stall_ref']):>6}  "
              f"{s['action']}{' FALSE ALARM' if s['false_alarm'] else ''}")
    mids = [abs(s["eta50"]) for s in scores if not math.isnan(s["eta50"])]
    all_eta = [abs(s[k]) for s in scores for k in ("eta25", "eta50", "eta75") if not math.isnan(s[k])]
    stalls = [(s["stall_ours"], s["stall_ref"]) for s in scores if not s["false_alarm"]
              and not math.isnan(s["stall_ref"])]
    print()
    print(f"median |ETA error| at the midpoint of converging runs: "
          f"{statistics.median(mids) * 100:.0f} % (target <= 15 %)" if mids else "no midpoint ETA")
    if all_eta:
        print(f"median |ETA error| at 25/50/75 % over all converging runs: "
              f"{statistics.median(all_eta) * 100:.0f} %")
    print(f"false 'not converging' or 'stalled': {sum(s['false_alarm'] for s in scores)} (target 0)")
    for ours, ref in stalls:
        print(f"stall detected at {ours:.1f} s vs reference rule at {ref:.1f} s "
              f"({'sooner' if ours < ref else 'NOT sooner'})")
    missed = [s["name"] for s in scores if not math.isnan(s["stall_ref"]) and math.isnan(s["stall_ours"])]
    if missed:
        print(f"reference rule fired but ours did not: {', '.join(missed)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", help="run only this case (repeatable)")
    ap.add_argument("--interval", type=float, default=1.0, help="polling interval (the app's default)")
    ap.add_argument("--reuse", type=Path, help="score the runs saved in this file instead of running")
    ap.add_argument("--replay", action="store_true",
                    help="with --reuse: compute the verdicts again with the current model")
    args = ap.parse_args()
    if args.reuse:
        runs = json.loads(args.reuse.read_text())
    else:
        runs = []
        for case in MATRIX:
            if args.only and case.name not in args.only:
                continue
            print(f"running {case.name} ...", file=sys.stderr, flush=True)
            runs.append(asyncio.run(run_case(case, args.interval)))
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(runs, default=str))
        print(f"saved to {RESULTS}", file=sys.stderr)
    report(runs, args.replay)


if __name__ == "__main__":
    main()
