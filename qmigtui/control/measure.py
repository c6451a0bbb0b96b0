"""Measuring the guest: calc-dirty-rate over one window or several (its footprint), sent
and audited like any command and kept for the forecast."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from qmigtui.control.ops import Controller
from qmigtui.control.outcomes import ControlError
from qmigtui.model.records import parse_record
from qmigtui.watch.snapshot import DirtyRate


async def dirty_rate(controller: Controller, seconds: int = 1, side: str = "source",
                     mode: str = "page-sampling", sample_pages: int = 4096) -> DirtyRate:
    """calc-dirty-rate, wait for the result, keep it for the forecast; bytes/s in the result.

    page-sampling is the default: dirty-bitmap made QEMU 7.2 exit under TCG here.
    """
    if not 1 <= seconds <= 60:
        raise ControlError(f"measuring window {seconds} s is out of range (1-60 s); nothing sent")
    if mode == "dirty-bitmap" and await _without_kvm(controller, side):
        # without KVM the dirty log is not kept: QEMU 7.2 exited, QEMU 10 reads 0
        raise ControlError("dirty-bitmap needs KVM (without it QEMU measures nothing, or "
                           "exits); use page-sampling; nothing sent")
    args: dict[str, Any] = {"calc-time": seconds}
    if mode != "page-sampling":
        args["mode"] = mode
    else:
        args["sample-pages"] = sample_pages
    await controller.send(side, "calc-dirty-rate", args)
    deadline = time.monotonic() + seconds + 15
    while True:
        await asyncio.sleep(min(0.25, seconds / 4))
        info = parse_record("DirtyRateInfo", await controller.query(side, "query-dirty-rate"))
        if info.text("status") == "measured":
            break
        if time.monotonic() > deadline:
            raise ControlError(f"{side}: dirty-rate measurement still {info.text('status')} after "
                               f"{seconds + 15} s")
    mib = float(info.number("dirty-rate") or 0)
    vcpus = tuple(float(v.number("dirty-rate") or 0) * (1 << 20)
                  for v in info.children("vcpu-dirty-rate"))
    result = DirtyRate(side, float(seconds), mib * (1 << 20), info.text("mode") or mode, time.time(),
                       vcpus)
    controller.watcher.add_measurement(result)
    return result

async def _without_kvm(controller: Controller, side: str) -> bool:
    """Whether this QEMU runs its guest without KVM (query-kvm says so, or cannot say)."""
    try:
        kvm = await controller.query(side, "query-kvm")
    except ControlError:
        return True
    return not (isinstance(kvm, dict) and kvm.get("enabled"))

async def footprint(controller: Controller, windows: tuple[int, ...] | None = None,
                    side: str = "source") -> list[DirtyRate]:
    """Two short windows and one as long as a first pass would be: the short ones give the
    rate (QEMU reports whole MB/s from a sample, so 1 s alone reads a slow guest low, and
    2 s alone reads a small hot set low), the long one whether the guest keeps rewriting a
    hot set smaller than rate × window (what the passes after the first send again)."""
    if windows is None:
        windows = (1, 2, await first_pass_seconds(controller, side))
    return [await dirty_rate(controller, w, side) for w in windows]

async def first_pass_seconds(controller: Controller, side: str = "source") -> int:
    """Guest RAM over max-bandwidth, within 2-30 s (4 s when either is unknown)."""
    try:
        memory = await controller.query(side, "query-memory-size-summary")
        params = parse_record("MigrationParameters",
                              await controller.query(side, "query-migrate-parameters"))
    except ControlError:
        return 4
    ram, cap = memory.get("base-memory"), params.number("max-bandwidth")
    if not isinstance(ram, int) or not cap:
        return 4
    return max(2, min(30, round(ram / cap)))
