"""libvirt's view of a migration, in QMP's words (plain data, no libvirt import).

libvirt reports a job as typed parameters (``virDomainGetJobStats``) and the domain's
state as (state, reason) numbers; the watcher and the screen speak QMP's
``MigrationInfo``. These functions translate, so a domain watched through libvirt
shows the same panes as a bare QEMU. The numbers are libvirt's stable ABI values.
"""

from __future__ import annotations

import re
from typing import Any

# virDomainJobType
JOB_NONE, JOB_BOUNDED, JOB_UNBOUNDED, JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED = range(6)
# virDomainState and the reasons that matter for a migration
RUNNING, PAUSED = 1, 3
RUNNING_POSTCOPY, RUNNING_POSTCOPY_FAILED = 10, 11
PAUSED_MIGRATION, PAUSED_POSTCOPY, PAUSED_POSTCOPY_FAILED = 2, 12, 13
# virDomainJobOperation
OPERATION_MIGRATION_IN, OPERATION_MIGRATION_OUT = 4, 5

_ENDED = {JOB_COMPLETED: "completed", JOB_FAILED: "failed", JOB_CANCELLED: "cancelled"}
MIB = 1 << 20


def status_of(stats: dict[str, Any], state: tuple[int, int] | None, announced: str | None) -> str:
    """QEMU's migration status from libvirt's job and domain state.

    ``announced`` is the last status QEMU's own MIGRATION event gave (None on a connection
    that may not register QMP events): it is the truth while a job runs.
    """
    job = stats.get("type", JOB_NONE)
    if job in _ENDED:
        return _ENDED[job]
    st, reason = state or (0, 0)
    postcopy_failed = (st, reason) in ((RUNNING, RUNNING_POSTCOPY_FAILED), (PAUSED, PAUSED_POSTCOPY_FAILED))
    if job in (JOB_BOUNDED, JOB_UNBOUNDED):
        if announced and announced not in ("none", *_ENDED.values()):
            return announced
        if postcopy_failed:
            return "postcopy-paused"
        if (st, reason) in ((RUNNING, RUNNING_POSTCOPY), (PAUSED, PAUSED_POSTCOPY)):
            return "postcopy-active"
        if (st, reason) == (PAUSED, PAUSED_MIGRATION):
            return "device"
        # libvirt's job starts before QEMU's migration (the destination is prepared first)
        return "active" if stats.get("memory_total") or stats.get("memory_processed") else "setup"
    if postcopy_failed:  # libvirt keeps no job while a postcopy waits to be recovered
        return "postcopy-paused"
    return announced if announced is not None and announced in _ENDED.values() else "none"


def incoming_status(state: tuple[int, int], announced: str | None) -> str:
    """The status of a destination whose incoming job libvirt gives no statistics of (it
    keeps them on the source): QEMU's own last word, else the domain's state."""
    if announced and announced != "none":
        return announced
    if state in ((RUNNING, RUNNING_POSTCOPY_FAILED), (PAUSED, PAUSED_POSTCOPY_FAILED)):
        return "postcopy-paused"
    if state in ((RUNNING, RUNNING_POSTCOPY), (PAUSED, PAUSED_POSTCOPY)):
        return "postcopy-active"
    return "active"  # an incoming job runs: the guest waits paused for its memory


def migration_info(stats: dict[str, Any], status: str) -> dict[str, Any]:
    """A ``query-migrate`` answer built from libvirt's job statistics."""
    info: dict[str, Any] = {"status": status}
    if status == "none":
        return info
    ended = status in ("completed", "failed", "cancelled")
    _put(info, "total-time", stats.get("time_elapsed"))
    _put(info, "setup-time", stats.get("setup_time"))
    _put(info, "downtime" if ended else "expected-downtime", stats.get("downtime"))
    _put(info, "cpu-throttle-percentage", stats.get("auto_converge_throttle"))
    if stats.get("errmsg"):
        info["error-desc"] = str(stats["errmsg"])
    ram: dict[str, Any] = {}
    for qmp, lv in (("transferred", "memory_processed"), ("remaining", "memory_remaining"),
                    ("total", "memory_total"), ("duplicate", "memory_constant"),
                    ("normal", "memory_normal"), ("normal-bytes", "memory_normal_bytes"),
                    ("dirty-pages-rate", "memory_dirty_rate"), ("page-size", "memory_page_size"),
                    ("dirty-sync-count", "memory_iteration"),
                    ("postcopy-requests", "memory_postcopy_requests")):
        _put(ram, qmp, stats.get(lv))
    if isinstance(stats.get("memory_bps"), int):
        ram["mbps"] = stats["memory_bps"] * 8 / 1e6
    if ram:
        info["ram"] = ram
    return info


def parameters(max_speed_mib: int | None, max_downtime_ms: int | None,
               postcopy_speed_mib: int | None) -> dict[str, Any]:
    """A ``query-migrate-parameters`` answer from what libvirt's API reads (MiB/s, ms)."""
    out: dict[str, Any] = {}
    if max_speed_mib is not None:
        out["max-bandwidth"] = max_speed_mib * MIB
    if max_downtime_ms is not None:
        out["downtime-limit"] = max_downtime_ms
    if postcopy_speed_mib is not None:
        out["max-postcopy-bandwidth"] = postcopy_speed_mib * MIB
    return out


def libvirt_migrate_uri(qmp_uri: str) -> str:
    """QEMU's ``tcp:HOST:PORT`` as libvirt's ``tcp://HOST:PORT`` (others unchanged)."""
    m = re.fullmatch(r"tcp:(\[[^\]]+\]|[^:/]+):(\d+)", qmp_uri)
    return f"tcp://{m.group(1)}:{m.group(2)}" if m else qmp_uri


def event(name: str, seconds: int, micros: int, data: Any) -> dict[str, Any]:
    """A QMP event as QEMU sent it, from libvirt's monitor-event callback."""
    msg: dict[str, Any] = {"event": name, "timestamp": {"seconds": seconds, "microseconds": micros}}
    if data is not None:
        msg["data"] = data
    return msg


def schema() -> list[dict[str, Any]]:
    """The introspection of what a domain under libvirt answers without the monitor: the
    commands libvirt has an API for, and the events libvirt relays."""
    def obj(name: str, *members: tuple[str, str]) -> dict[str, Any]:
        return {"name": name, "meta-type": "object",
                "members": [{"name": n, "type": t, "default": None} for n, t in members]}

    def command(name: str, arg: str = "0", ret: str = "0") -> dict[str, Any]:
        return {"name": name, "meta-type": "command", "arg-type": arg, "ret-type": ret}

    return [
        obj("0"),
        {"name": "int", "meta-type": "builtin", "json-type": "int"},
        {"name": "str", "meta-type": "builtin", "json-type": "string"},
        {"name": "bool", "meta-type": "builtin", "json-type": "boolean"},
        obj("lv-migrate", ("uri", "str"), ("resume", "bool")),
        obj("lv-parameters", ("max-bandwidth", "int"), ("downtime-limit", "int"),
            ("max-postcopy-bandwidth", "int")),
        obj("lv-migration", ("pass", "int")),
        obj("lv-status", ("status", "str")),
        command("query-migrate"), command("query-migrate-parameters"),
        command("query-migrate-capabilities"),
        command("migrate", "lv-migrate"), command("migrate_cancel"),
        command("migrate-start-postcopy"), command("migrate-pause"),
        command("migrate-set-parameters", "lv-parameters"),
        {"name": "MIGRATION", "meta-type": "event", "arg-type": "lv-status"},
        {"name": "MIGRATION_PASS", "meta-type": "event", "arg-type": "lv-migration"},
    ]


def _put(into: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        into[key] = value
