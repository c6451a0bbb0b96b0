"""MigrationInfo as readable rows: every member, with its unit, unknown ones included."""

from __future__ import annotations

from typing import Any

from qmigtui.model import units
from qmigtui.model.records import Record

# dotted member -> unit of its value
UNITS: dict[str, str] = {
    "total-time": "ms", "expected-downtime": "ms", "downtime": "ms", "setup-time": "ms",
    "cpu-throttle-percentage": "%", "postcopy-blocktime": "ms",
    "dirty-limit-throttle-time-per-round": "us", "dirty-limit-ring-full-time": "us",
    "transferred": "bytes", "remaining": "bytes", "total": "bytes", "normal-bytes": "bytes",
    "multifd-bytes": "bytes", "precopy-bytes": "bytes", "downtime-bytes": "bytes",
    "postcopy-bytes": "bytes", "page-size": "bytes", "cache-size": "bytes", "bytes": "bytes",
    "compressed-size": "bytes", "mbps": "Mbit/s", "dirty-pages-rate": "pages/s",
    "pages-per-second": "pages/s", "cache-miss-rate": "ratio", "encoding-rate": "ratio",
    "busy-rate": "ratio", "compression-rate": "ratio",
}


def format_member(name: str, value: Any) -> str:
    """One member's value with its unit (bytes as MiB etc., exact number kept for big ones)."""
    unit = UNITS.get(name.rsplit(".", 1)[-1])
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, list):
            return ", ".join(format_member(name, v) for v in value) or "-"
        if isinstance(value, Record):
            return " ".join(f"{k}={v}" for k, v in value.to_json().items())
        return str(value)
    if unit == "bytes":
        return f"{units.format_bytes(value)} ({value})" if value >= 1024 else f"{value} B"
    if unit == "ms":
        return units.format_ms(value)
    if unit == "us":
        return f"{value} us"
    if unit == "%":
        return f"{value} %"
    if unit == "ratio":
        return f"{value:.3g}"
    if unit == "Mbit/s":
        return f"{value:.1f} Mbit/s ({units.format_rate(value * 1e6 / 8)})"
    if unit:
        return f"{value} {unit}"
    return str(value)


def info_rows(info: Record, prefix: str = "") -> list[tuple[str, str]]:
    """Every member of a record as (dotted name, readable value), nested ones flattened."""
    rows: list[tuple[str, str]] = []
    for key, value in info.values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Record) and key != "socket-address":
            rows += info_rows(value, f"{name}.")
        else:
            rows.append((name, format_member(name, value)))
    for key, value in info.extra.items():
        rows.append((f"{prefix}{key} (other)", str(value)[:200]))
    for key, err in info.errors.items():
        rows.append((f"{prefix}{key} (unreadable)", err))
    return rows
