"""What the lab's Linux guest runs: named memory workloads, the common shapes seen in
production (stress-ng and busybox inside the guest).

Each script prints the ready line once its memory is in place; the lab waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from qmigtui.lab.linux_image import READY


@dataclass(frozen=True)
class Workload:
    """A named guest workload: what it does, and the shell script that does it."""

    name: str
    what: str
    script: str
    settle_s: float = 2.0  # seconds after the ready line before the memory is in steady state


def _ready_then(command: str, before: str = "") -> str:
    return f"{before}\necho '{READY}'\n{command}\n" if before else f"echo '{READY}'\n{command}\n"


WORKLOADS = {w.name: w for w in (
    Workload("writer", "a writer held to 12 MB/s over a 160 MiB set (stress-ng memrate)",
             _ready_then("exec stress-ng --memrate 1 --memrate-bytes 160M --memrate-wr-mbs 12 "
                         "--memrate-rd-mbs 100000 -t 0 -q"), settle_s=4.0),
    Workload("fast-writer", "a writer held to 48 MB/s over a 160 MiB set, with read phases "
             "between its write phases (stress-ng memrate): faster than a 32 MiB/s link",
             _ready_then("exec stress-ng --memrate 1 --memrate-bytes 160M --memrate-wr-mbs 48 "
                         "--memrate-rd-mbs 100000 -t 0 -q"), settle_s=4.0),
    Workload("hot-rewrite", "rewrites its whole 64 MiB hot set as fast as it can (stress-ng vm "
             "write64, kept mapped)",
             _ready_then("exec stress-ng --vm 1 --vm-bytes 64M --vm-keep --vm-method write64 "
                         "-t 0 -q"), settle_s=4.0),
    Workload("random", "small writes at random places over 192 MiB (stress-ng vm swap: 64-byte "
             "chunks swapped at random)",
             _ready_then("exec stress-ng --vm 1 --vm-bytes 192M --vm-keep --vm-method swap "
                         "-t 0 -q"), settle_s=6.0),
    Workload("idle-cache", "mostly idle, 160 MiB of file data in the page cache, a log line a second",
             _ready_then("while :; do date >> /tmp/log; sleep 1; done",
                         before="dd if=/dev/urandom of=/tmp/cache bs=1M count=160 2>/dev/null"),
             settle_s=1.0),
    Workload("bursty", "bursts: 96 MiB written, 4 s idle, again (stress-ng vm with vm-hang)",
             _ready_then("exec stress-ng --vm 1 --vm-bytes 96M --vm-method write64 --vm-hang 4 "
                         "-t 0 -q"), settle_s=4.0),
)}

DEFAULT = "writer"
