"""MigrationInfo as readable rows: every member, with its unit, unknown ones included, none cut."""

from __future__ import annotations

from typing import Any

from qmigtui.model import units
from qmigtui.model.members import member_info
from qmigtui.model.records import Record


def format_member(name: str, value: Any) -> str:
    """One member's value with its unit (bytes as MiB etc., exact number kept for big ones)."""
    unit = member_info(name).unit
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, list):
            return ", ".join(format_member(name, v) for v in value) or "-"
        if isinstance(value, Record):
            return " ".join(f"{k}={v}" for k, v in value.to_json().items())
        return str(value)
    return units.format_in(value, unit, exact=True)  # readable, and QEMU's exact number


def info_rows(info: Record, prefix: str = "") -> list[tuple[str, str]]:
    """Every member of a record as (dotted name, readable value), nested ones flattened."""
    rows: list[tuple[str, str]] = []
    for key, value in info.values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Record) and key != "socket-address":
            rows += info_rows(value, f"{name}.")
        else:
            label = f"{name} (new)" if member_info(name).new else name
            rows.append((label, format_member(name, value)))
    for key, value in info.extra.items():  # not even this QEMU's schema has it: as it came
        rows.append((f"{prefix}{key} (other)", str(value)))
    for key, err in info.errors.items():
        rows.append((f"{prefix}{key} (unreadable)", err))
    return rows
