"""A recording as tables: every numeric field of query-migrate per side and sample, and the events."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qmigtui.record.format import Reader


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """Numeric leaves of a reply as (dotted.path, number); booleans and text are left out."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield prefix, value


def tables(reader: Reader) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(samples, events) of a recording; times in seconds from its first message."""
    samples: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    pending: dict[tuple[str, str], str] = {}
    start: float | None = None
    for e in reader.entries():
        start = e.t if start is None else start
        if e.kind == "command":
            pending[(e.side, str(e.msg.get("id")))] = str(e.msg.get("execute"))
        elif e.kind == "response":
            command = pending.pop((e.side, str(e.msg.get("id"))), None)
            reply = e.msg.get("return")
            if command == "query-migrate" and isinstance(reply, dict):
                row: dict[str, Any] = {"side": e.side, "t": round(e.t - start, 3), "wall": e.wall,
                                       "status": reply.get("status", "none")}
                row.update(flatten(reply))
                samples.append(row)
        elif e.kind == "event":
            events.append({"side": e.side, "t": round(e.t - start, 3), "wall": e.wall,
                           "qemu_time": _qemu_time(e.msg.get("timestamp")), "event": e.msg.get("event"),
                           "data": e.msg.get("data", {})})
    return samples, events


def write_csv(reader: Reader, prefix: Path) -> list[Path]:
    """PREFIX.csv (a row per sample, a column per numeric field) and PREFIX-events.csv."""
    samples, events = tables(reader)
    fixed = ["side", "t", "wall", "status"]
    fields = sorted({k for row in samples for k in row} - set(fixed))
    out = prefix.with_name(prefix.name + ".csv")
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fixed + fields, restval="")
        w.writer.writerow([csv_cell(name) for name in fixed + fields])  # names come from QEMU too
        w.writerows({k: csv_cell(v) for k, v in row.items()} for row in samples)
    ev = prefix.with_name(prefix.name + "-events.csv")
    with ev.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["side", "t", "wall", "qemu_time", "event", "data"])
        w.writeheader()
        for row in events:
            data = json.dumps(row["data"], separators=(",", ":"))
            w.writerow({k: csv_cell(v) for k, v in (row | {"data": data}).items()})
    return [out, ev]


def _qemu_time(stamp: Any) -> float | None:
    """QEMU's event timestamp in seconds, or None when it is not one."""
    if not isinstance(stamp, dict):
        return None
    s, us = stamp.get("seconds"), stamp.get("microseconds")
    if isinstance(s, (int, float)) and isinstance(us, (int, float)) and bool not in (type(s), type(us)):
        return float(s) + float(us) / 1e6
    return None


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: one that would start a formula gets a quote first."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r", "|", "%"):
        return "'" + value
    return value


def write_json(reader: Reader, prefix: Path) -> list[Path]:
    samples, events = tables(reader)
    out = prefix.with_name(prefix.name + ".json")
    out.write_text(json.dumps({"header": reader.header, "samples": samples, "events": events},
                              indent=1), encoding="utf-8")
    return [out]


def default_prefix(recording: Path) -> Path:
    name = recording.name
    for suffix in (".gz", ".jsonl", ".json"):
        name = name.removesuffix(suffix)
    return recording.with_name(name)
