"""What each migration capability does, in our words, and the rules between them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from qmigtui.model.records import CapabilityRecord

DESCRIPTIONS: dict[str, str] = {
    "xbzrle": "Send only the changed bytes of pages resent often (needs xbzrle-cache-size).",
    "rdma-pin-all": "RDMA: pin all guest memory up front instead of on demand.",
    "auto-converge": "Throttle guest vCPUs step by step when precopy does not converge.",
    "zero-blocks": "Block migration: skip blocks that are all zeroes.",
    "compress": "Compress pages with threads (old scheme, use multifd compression).",
    "events": "Send MIGRATION and MIGRATION_PASS events (qmigtui wants this on).",
    "postcopy-ram": "Allow switching to postcopy: guest runs on the destination early.",
    "x-colo": "COLO fault tolerance: primary and secondary run in lock-step.",
    "release-ram": "Postcopy: free source RAM as soon as it has been sent.",
    "block": "Migrate block devices too (old scheme, use blockdev-mirror).",
    "return-path": "Open a channel from destination back to source (postcopy needs it).",
    "pause-before-switchover": "Stop in pre-switchover and wait for migrate-continue.",
    "multifd": "Send RAM over several parallel channels (multifd-channels).",
    "dirty-bitmaps": "Migrate persistent block dirty bitmaps.",
    "postcopy-blocktime": "Measure how long vCPUs wait for pages in postcopy.",
    "late-block-activate": "Destination activates block devices only at migrate-continue/cont.",
    "x-ignore-shared": "Skip RAM blocks shared with the destination (same host).",
    "validate-uuid": "Refuse the stream if source and destination UUIDs differ.",
    "background-snapshot": "Write-protect RAM to take a snapshot while the guest runs.",
    "zero-copy-send": "Send pages without copying them (multifd, Linux, locked memory).",
    "postcopy-preempt": "Urgent postcopy pages on their own channel, ahead of the bulk.",
    "switchover-ack": "Wait for the destination to say it is ready before switchover.",
    "dirty-limit": "Throttle with per-vCPU dirty limits instead of auto-converge.",
    "mapped-ram": "Write each RAM page at a fixed place in a file (migration to a file, "
                  "multifd and direct-io can use it).",
}

# Capabilities whose state must be the same on source and destination.
MUST_MATCH = ("postcopy-ram", "multifd", "x-ignore-shared", "postcopy-preempt",
              "switchover-ack", "return-path", "validate-uuid", "dirty-bitmaps",
              "late-block-activate")

# capability -> capabilities it needs on the same side.
REQUIRES: dict[str, tuple[str, ...]] = {
    "switchover-ack": ("return-path",),
    "postcopy-preempt": ("postcopy-ram",),
    "zero-copy-send": ("multifd",),
    "postcopy-blocktime": ("postcopy-ram",),
}

# Pairs that QEMU refuses together.
CONFLICTS: tuple[tuple[str, str], ...] = (
    ("background-snapshot", "postcopy-ram"),
    ("multifd", "compress"),
    ("xbzrle", "zero-copy-send"),
    ("dirty-limit", "auto-converge"),
)


def describe(capability: str) -> str:
    """One line on what a capability does (empty for one we do not know yet)."""
    return DESCRIPTIONS.get(capability, "")


def check_change(capability: str, state: bool, current: Mapping[str, bool],
                 other_side: Mapping[str, bool] | None = None) -> list[str]:
    """Problems with setting ``capability`` to ``state`` given this side's (and the peer's) states.

    Returns readable reasons; an empty list means the change is consistent.
    """
    after = dict(current) | {capability: state}
    problems = []
    for cap, needs in REQUIRES.items():
        if after.get(cap):
            problems += [f"{cap} needs {need} on" for need in needs if not after.get(need)]
    for a, b in CONFLICTS:
        if after.get(a) and after.get(b):
            problems.append(f"{a} and {b} cannot both be on")
    if other_side is not None and capability in MUST_MATCH and capability in other_side \
            and other_side[capability] != state:
        other = "on" if other_side[capability] else "off"
        problems.append(f"{capability} must match on both sides (the other side has it {other})")
    return [p for p in problems if capability in p]


def capabilities_of(statuses: Iterable[CapabilityRecord]) -> dict[str, bool]:
    """query-migrate-capabilities, parsed, as name -> on (entries without a name left out)."""
    out: dict[str, bool] = {}
    for status in statuses:
        name = status.text("capability")
        if name is not None:
            out[name] = bool(status.flag("state"))
    return out
