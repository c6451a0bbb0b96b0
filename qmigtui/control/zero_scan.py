"""How much of the guest's RAM is zero pages: a first pass sends those almost free.

Whole pages are read at random places with HMP ``xp`` (a read: the guest is not changed and
nothing is kept but whether each page was zero); 256 pages put the share within about 6 %.
Only RAM below 3 GiB is sampled (above it a PC maps the PCI hole).
"""

from __future__ import annotations

import random
import re
import time

from qmigtui.control.ops import Controller
from qmigtui.control.outcomes import ControlError
from qmigtui.watch.snapshot import ZeroShare

PAGE_SIZE = 4096
SAMPLES = 256
_WORD = re.compile(r"0x([0-9a-fA-F]+)")


async def measure_zero_share(controller: Controller, side: str = "source",
                             samples: int = SAMPLES) -> ZeroShare:
    """Sample the guest's RAM; the result also goes to the watcher, for the forecast."""
    memory = await controller.query(side, "query-memory-size-summary")
    base = memory.get("base-memory") if isinstance(memory, dict) else None
    if not isinstance(base, int) or base < PAGE_SIZE:
        raise ControlError(f"{side}: QEMU did not say how much memory the guest has")
    pages = min(base, 3 << 30) // PAGE_SIZE
    picked = sorted(random.sample(range(pages), min(samples, pages)))
    zero = 0
    for page in picked:
        text = await controller.query(side, "human-monitor-command",
                                      {"command-line": f"xp /{PAGE_SIZE // 8}gx {page * PAGE_SIZE:#x}"})
        words = [w for line in str(text).splitlines() for w in _WORD.findall(line.partition(":")[2])]
        zero += bool(words) and not any(int(w, 16) for w in words)
    result = ZeroShare(side, zero / len(picked), len(picked), time.time())
    controller.watcher.add_measurement(result)
    return result
