"""Record the bundled example migrations in examples/ from real lab runs.

    python scripts/record_examples.py            # all of them (about 3 minutes here)
    python scripts/record_examples.py converge   # one

Each is a real source and destination QEMU on this machine, recorded with the
same recorder ``--record`` uses, then gzip-compressed.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qmigtui.control.rig import Rig  # noqa: E402
from qmigtui.lab.pair import LabConfig  # noqa: E402
from qmigtui.qmp.errors import NotConnected  # noqa: E402
from qmigtui.record.recorder import Recorder  # noqa: E402
from qmigtui.training.scenarios import break_postcopy, status_is  # noqa: E402
from qmigtui.training.scenarios import until as wait_until  # noqa: E402

MiB = 1 << 20
EXAMPLES = ROOT / "examples"
STUCK = dict(mem_mib=128, working_set_mib=32, dirty_rate_mib_s=40, bandwidth=16 * MiB)


def status(side: str, *wanted: str) -> Callable[[Any], bool]:
    return status_is(*wanted, side=side)


async def converge(rig: Rig) -> None:
    await rig.controller.start_migration()
    await wait_until(rig, status("destination", "completed"), 60, "completion")


async def postcopy_rescue(rig: Rig) -> None:
    await rig.controller.start_migration()
    await wait_until(rig, lambda s: s.forecast is not None and s.forecast.verdict == "not-converging", 60,
                "not-converging verdict")
    await asyncio.sleep(3)
    await rig.controller.start_postcopy()
    await wait_until(rig, status("destination", "completed"), 60, "completion")


async def auto_converge_max(rig: Rig) -> None:
    await rig.controller.start_migration()
    await wait_until(rig, lambda s: (s.source.info is not None
                                and (s.source.info.number("cpu-throttle-percentage") or 0) >= 80)
                or s.source.status == "completed", 120, "throttle at its maximum")
    await asyncio.sleep(8)
    if rig.watcher.snapshot.source.status == "active":
        await rig.controller.cancel()
        await wait_until(rig, status("source", "cancelled"), 30, "cancelled")


async def postcopy_recover(rig: Rig) -> None:
    await rig.controller.start_migration()
    await wait_until(rig, status("source", "active"), 20, "active")
    await asyncio.sleep(2)
    rig.watcher.poke(config=True)
    await asyncio.sleep(0.5)
    await rig.controller.start_postcopy()
    await wait_until(rig, status("source", "postcopy-active"), 20, "postcopy-active")
    await asyncio.sleep(2)
    await break_postcopy(rig)
    await asyncio.sleep(3)
    await rig.controller.recover()
    await wait_until(rig, status("destination", "completed"), 90, "completion after recovery")


SCENARIOS: dict[str, tuple[Callable[[Rig], Awaitable[None]], dict[str, Any]]] = {
    "converge": (converge, dict(config=dict(mem_mib=128, working_set_mib=16, dirty_rate_mib_s=8,
                                            bandwidth=24 * MiB))),
    "postcopy-rescue": (postcopy_rescue, dict(config=STUCK, capabilities={"postcopy-ram": True})),
    "auto-converge-max": (auto_converge_max, dict(
        config=STUCK, capabilities={"auto-converge": True},
        parameters={"cpu-throttle-initial": 40, "cpu-throttle-increment": 20, "max-cpu-throttle": 80})),
    "postcopy-recover": (postcopy_recover, dict(
        config=dict(STUCK, bandwidth=8 * MiB), capabilities={"postcopy-ram": True},
        parameters={"max-postcopy-bandwidth": 4 * MiB})),
}


async def record(name: str, attempts: int = 3) -> Path:
    play, options = SCENARIOS[name]
    EXAMPLES.mkdir(exist_ok=True)
    raw = EXAMPLES / f"{name}.jsonl"
    for attempt in range(1, attempts + 1):
        recorder = Recorder(raw)
        rig = await Rig.start(LabConfig(**options["config"]), 0.5, prepare=recorder.attach,
                              capabilities=options.get("capabilities"),
                              parameters=options.get("parameters"))
        try:
            await play(rig)
            await asyncio.sleep(1.5)
            break
        except (NotConnected, TimeoutError) as e:  # QEMU 7.2 sometimes drops a monitor in postcopy
            print(f"{name}: attempt {attempt} failed ({e}); again", file=sys.stderr)
            if attempt == attempts:
                raise
        finally:
            await rig.close()
            recorder.close()
    packed = raw.with_suffix(".jsonl.gz")
    with raw.open("rb") as src, gzip.open(packed, "wb", compresslevel=9) as dst:
        shutil.copyfileobj(src, dst)
    raw.unlink()
    return packed


def main() -> None:
    names = sys.argv[1:] or list(SCENARIOS)
    for name in names:
        if name not in SCENARIOS:
            sys.exit(f"unknown example {name!r}; known: {', '.join(SCENARIOS)}")
        path = asyncio.run(record(name))
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
