"""What each member of MigrationInfo (query-migrate's answer) holds: its unit and a line on
its meaning, for every member of QEMU 7.2 through 11.1. Types come from the connected QEMU's
own schema (records.Types); this table only adds what the schema does not say."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qmigtui.model.records import InfoRecord


@dataclass(frozen=True)
class MemberInfo:
    """``unit``: bytes, ms, us, ns, %, ratio, Mbit/s, pages/s, count, or "" for text, flags
    and names. ``new``: no table of ours knows the member (a newer QEMU's)."""

    unit: str
    help: str
    new: bool = False


# Members of the RAM statistics (MigrationStats, MigrationRAMStats since 11.1), also under
# 7.2's disk.
_RAM = {
    "transferred": ("bytes", "Bytes sent so far, of every kind."),
    "remaining": ("bytes", "RAM still to send in this pass (dirty or never sent)."),
    "total": ("bytes", "Guest RAM in all."),
    "duplicate": ("count", "Pages found to be all zeroes (sent as a marker, not whole)."),
    "skipped": ("count", "Pages skipped (always 0; gone after QEMU 8)."),
    "normal": ("count", "Whole pages sent."),
    "normal-bytes": ("bytes", "Bytes of whole pages sent."),
    "dirty-pages-rate": ("pages/s", "Pages the guest dirtied per second, last measured."),
    "mbps": ("Mbit/s", "Throughput of the last period."),
    "dirty-sync-count": ("count", "Dirty-bitmap syncs: the number of passes so far."),
    "postcopy-requests": ("count", "Pages the destination asked for in postcopy (faults)."),
    "page-size": ("bytes", "Target page size."),
    "multifd-bytes": ("bytes", "Bytes sent over multifd channels."),
    "pages-per-second": ("pages/s", "Pages sent per second, last period."),
    "precopy-bytes": ("bytes", "Bytes sent in precopy."),
    "downtime-bytes": ("bytes", "Bytes sent while the guest was stopped."),
    "postcopy-bytes": ("bytes", "Bytes sent in postcopy."),
    "dirty-sync-missed-zero-copy": ("count", "Syncs that found zero-copy sends still in flight."),
}

_SOCKET = {
    "type": ("", "Kind of address: inet, unix, vsock or fd."),
    "host": ("", "Host name or address."),
    "port": ("", "Port, or service name."),
    "numeric": ("", "Host and port are numeric (no name lookup)."),
    "to": ("count", "Last port of a range to try."),
    "ipv4": ("", "Use IPv4."),
    "ipv6": ("", "Use IPv6."),
    "keep-alive": ("", "TCP keep-alive on."),
    "keep-alive-count": ("count", "Keep-alive probes before the link counts as dead (11.1+)."),
    "keep-alive-idle": ("s", "Idle time before the first keep-alive probe (11.1+)."),
    "keep-alive-interval": ("s", "Time between keep-alive probes (11.1+)."),
    "mptcp": ("", "Multipath TCP."),
    "path": ("", "Unix socket path."),
    "abstract": ("", "Abstract unix socket (no file)."),
    "tight": ("", "Abstract name without padding."),
    "cid": ("", "vsock context id."),
    "str": ("", "File descriptor name or number."),
}

TABLE: dict[str, tuple[str, str]] = {
    "status": ("", "Where the migration stands."),
    "remaining": ("bytes", "Everything still to send: RAM and device state, VFIO included "
                           "(QEMU 11.1+)."),
    **{f"ram.{k}": v for k, v in _RAM.items()},
    **{f"disk.{k}": (u, "Old block migration: " + h[0].lower() + h[1:]) for k, (u, h) in _RAM.items()},
    "vfio.transferred": ("bytes", "Device (VFIO) state sent so far."),
    "xbzrle-cache.cache-size": ("bytes", "XBZRLE cache size."),
    "xbzrle-cache.bytes": ("bytes", "Bytes sent XBZRLE-encoded."),
    "xbzrle-cache.pages": ("count", "Pages sent XBZRLE-encoded."),
    "xbzrle-cache.cache-miss": ("count", "Pages not found in the XBZRLE cache."),
    "xbzrle-cache.cache-miss-rate": ("ratio", "Share of lookups that missed the cache."),
    "xbzrle-cache.encoding-rate": ("ratio", "Bytes before encoding per byte after."),
    "xbzrle-cache.overflow": ("count", "Pages whose encoding was larger than the page."),
    "compression.pages": ("count", "Pages compressed (old compression)."),
    "compression.busy": ("count", "Times no compression thread was free."),
    "compression.busy-rate": ("ratio", "Share of pages that found every thread busy."),
    "compression.compressed-size": ("bytes", "Bytes after compression."),
    "compression.compression-rate": ("ratio", "Bytes before compression per byte after."),
    "total-time": ("ms", "Time since the migration started (its length once over)."),
    "expected-downtime": ("ms", "Pause QEMU expects if it switched over now."),
    "downtime": ("ms", "The pause the guest had at switchover."),
    "setup-time": ("ms", "Time spent setting up."),
    "cpu-throttle-percentage": ("%", "Share of vCPU time auto-converge takes away."),
    "error-desc": ("", "QEMU's own words on what went wrong."),
    "blocked-reasons": ("", "Why a migration cannot start now."),
    "postcopy-blocktime": ("ms", "Time vCPUs spent waiting for pages in postcopy, overall."),
    "postcopy-vcpu-blocktime": ("ms", "Time each vCPU spent waiting for pages in postcopy."),
    "postcopy-latency": ("ns", "Mean time a page fault waited in postcopy (10.1+)."),
    "postcopy-latency-dist": ("count", "Faults by how long they waited: bucket N holds "
                                       "2^N to 2^(N+1) us (10.1+)."),
    "postcopy-vcpu-latency": ("ns", "Mean fault wait of each vCPU in postcopy (10.1+)."),
    "postcopy-non-vcpu-latency": ("ns", "Mean wait of faults not taken by a vCPU (10.1+)."),
    "dirty-limit-throttle-time-per-round": ("us", "Dirty-limit: throttle time per round."),
    "dirty-limit-ring-full-time": ("us", "Dirty-limit: time to fill the dirty ring."),
    **{f"socket-address.{k}": v for k, v in _SOCKET.items()},
}

# units certain from a name alone, for a member no table knows
_NAME_UNITS = ((re.compile(r"-bytes$"), "bytes"), (re.compile(r"-ms$"), "ms"),
               (re.compile(r"-ns$"), "ns"), (re.compile(r"-us$"), "us"))


def member_info(path: str) -> MemberInfo:
    """Unit and meaning of a member by its dotted path in MigrationInfo (list items as their
    list); one no table knows is marked new, with a unit only where its name makes it certain."""
    path = re.sub(r"\[\d+\]", "", path)
    if path in TABLE:
        unit, text = TABLE[path]
        return MemberInfo(unit, text)
    last = path.rsplit(".", 1)[-1]
    unit = next((u for pattern, u in _NAME_UNITS if pattern.search(last)), "")
    return MemberInfo(unit, "", new=True)


def remaining(info: InfoRecord) -> float | None:
    """What is left to send: QEMU 11.1's top-level ``remaining`` (RAM and device state, VFIO
    included) where it gives it, else the RAM's."""
    top = info.number("remaining")
    return top if top is not None else info.number("ram.remaining")


def latency_buckets(dist: list[float]) -> list[tuple[float, float]]:
    """``postcopy-latency-dist`` as (lowest wait in microseconds, faults) per bucket: bucket N
    holds faults that waited 2^N to 2^(N+1) us."""
    return [(float(2 ** n), count) for n, count in enumerate(dist)]
