"""Migration parameters: type, unit, range and meaning, and reading what a person types."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from qmigtui.model import units
from qmigtui.model.records import (
    ENUMS,
    INT_RANGES,
    ParseError,
    Record,
    enum_values,
    members,
    parse_value,
    to_wire,
)


@dataclass(frozen=True)
class ParamInfo:
    """What we know of one parameter beyond its QAPI type."""

    unit: str  # bytes, bytes/s, ms, %, count, level, MiB/s, text, enum, bool, json (units.py's words)
    help: str
    lo: int | None = None
    hi: int | None = None
    live: bool = False  # takes effect on a running migration


CATALOG: dict[str, ParamInfo] = {
    "announce-initial": ParamInfo("ms", "Delay before the first self-announce after switchover.", 1, 100_000),
    "announce-max": ParamInfo("ms", "Longest delay between self-announce packets.", 1, 100_000),
    "announce-rounds": ParamInfo("count", "How many self-announce packets to send.", 1, 1000),
    "announce-step": ParamInfo("ms", "Growth of the delay between self-announce packets.", 1, 10_000),
    "compress-level": ParamInfo("level", "Old compression: zlib level 0-9.", 0, 9),
    "compress-threads": ParamInfo("count", "Old compression: source threads.", 1, 255),
    "compress-wait-thread": ParamInfo("bool", "Old compression: wait for a free thread."),
    "decompress-threads": ParamInfo("count", "Old compression: destination threads.", 1, 255),
    "throttle-trigger-threshold": ParamInfo(
        "%", "Throttle when dirtied bytes exceed this share of bytes sent in a pass.", 1, 100),
    "cpu-throttle-initial": ParamInfo("%", "Auto-converge: first throttle step.", 1, 99, True),
    "cpu-throttle-increment": ParamInfo("%", "Auto-converge: added per step.", 1, 99, True),
    "cpu-throttle-tailslow": ParamInfo("bool", "Auto-converge: smaller steps near the end.", live=True),
    "tls-creds": ParamInfo("text", "TLS credentials object id; empty turns TLS off."),
    "tls-hostname": ParamInfo("text", "Host name the destination certificate must carry."),
    "tls-authz": ParamInfo("text", "Authorization object id checked on the destination."),
    "max-bandwidth": ParamInfo("bytes/s", "Precopy bandwidth cap.", 0, None, True),
    "avail-switchover-bandwidth": ParamInfo(
        "bytes/s", "Bandwidth to assume at switchover when estimating downtime (0: measured).", 0,
        None, True),
    "downtime-limit": ParamInfo("ms", "Largest pause allowed at switchover.", 0, 2_000_000, True),
    "x-checkpoint-delay": ParamInfo("ms", "COLO: time between checkpoints.", 0, None, True),
    "block-incremental": ParamInfo("bool", "Old block migration: copy only the top image."),
    "multifd-channels": ParamInfo("count", "Parallel channels for multifd.", 1, 255),
    "xbzrle-cache-size": ParamInfo("bytes", "XBZRLE cache size (a power of two).", 0, None, True),
    "max-postcopy-bandwidth": ParamInfo("bytes/s", "Postcopy background bandwidth cap (0: none).",
                                        0, None, True),
    "max-cpu-throttle": ParamInfo("%", "Auto-converge: highest throttle.", 1, 99, True),
    "multifd-compression": ParamInfo("enum", "multifd compression method."),
    "multifd-zlib-level": ParamInfo("level", "multifd zlib level 0-9.", 0, 9),
    "multifd-zstd-level": ParamInfo("level", "multifd zstd level 0-20.", 0, 20),
    "block-bitmap-mapping": ParamInfo("json", "Map block dirty bitmaps to names in the stream."),
    "x-vcpu-dirty-limit-period": ParamInfo("ms", "Dirty-limit: length of a measuring period.",
                                           1, 1000, True),
    "vcpu-dirty-limit": ParamInfo("MiB/s", "Dirty-limit: per-vCPU dirty rate cap.", 1, None, True),
    "mode": ParamInfo("enum", "Migration mode: normal, or a CheckPoint-and-Restart one this QEMU "
                              "offers (cpr-reboot, cpr-transfer, cpr-exec)."),
    "multifd-qatzip-level": ParamInfo("level", "multifd QATzip level 1-9 (QEMU 9.2+).", 1, 9),
    "zero-page-detection": ParamInfo("enum", "Where zero pages are found: none, legacy (the main "
                                             "thread) or multifd (the channels)."),
    "direct-io": ParamInfo("bool", "mapped-ram: write and read the migration file with O_DIRECT."),
    "x-rdma-chunk-size": ParamInfo("bytes", "RDMA: size of a registered chunk (QEMU 11.1+, "
                                            "a power of two).", 1, None),
    "cpr-exec-command": ParamInfo("json", "cpr-exec: the command QEMU runs to start the new QEMU "
                                          "(a list of strings)."),
}


def qapi_type(name: str) -> str | list[Any]:
    """The type a parameter has in MigrateSetParameters (what a set takes)."""
    for m in members("MigrateSetParameters"):
        if m.name == name:
            return m.type  # type: ignore[no-any-return]
    raise KeyError(name)


def info(name: str) -> ParamInfo:
    """Catalog entry for a parameter; one we do not know yet is plain text."""
    return CATALOG.get(name, ParamInfo("text", ""))


def live_qtype(live: str) -> str | list[Any] | tuple[str, ...]:
    """A type as this QEMU's schema describes it (``int``, ``boolean``, ``enum(a|b)``,
    ``[object]``, ``string or null``) -> what parse_input checks against: a QAPI builtin, a list type, or the
    tuple of an enum's values (this QEMU's own, a newer one may have more)."""
    if live.startswith("enum(") and live.endswith(")"):
        return tuple(live[5:-1].split("|"))
    if live.startswith("["):
        return ["any"]
    return {"boolean": "bool", "bool": "bool", "int": "int", "number": "number", "value": "any",
            "any": "any", "object": "any"}.get(live, "str")  # strings, and string-or-null


def value_of(params: Record | None, name: str) -> Any:
    """A parameter's value as QEMU reported it: one our 8.2 tables type is checked; one a newer
    QEMU added (kept as ``extra``) is passed on as QEMU sent it."""
    if params is None:
        return None
    return params.values.get(name, params.extra.get(name))


def parse_input(name: str, text: str, live_type: str | None = None) -> Any:
    """What a person typed for parameter ``name`` -> the value to send.

    ``live_type`` is the parameter's type in the connected QEMU's schema; without it the
    8.2 tables decide.  Raises ValueError with a one-line reason; nothing is sent then.
    """
    text = text.strip()
    meta = info(name)
    qtype: str | list[Any] | tuple[str, ...]
    try:
        qtype = qapi_type(name)
    except KeyError:
        qtype = "str"
    if live_type is not None:
        live = live_qtype(live_type)
        if not (isinstance(qtype, list) and isinstance(live, list)):
            qtype = live  # the list types of our tables check their items more closely
    if isinstance(qtype, tuple):
        if text not in qtype:
            raise ValueError(f"{name}: expected one of {', '.join(qtype)}, got {text!r}")
        return text
    if qtype == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{name}: not a number: {text!r}") from None
    if qtype == "any":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"{name}: not valid JSON ({e.msg} at column {e.colno})") from None
    if isinstance(qtype, list):
        return _parse_list(name, qtype, text)
    if qtype == "bool":
        lowered = text.lower()
        if lowered in ("on", "true", "yes", "1"):
            return True
        if lowered in ("off", "false", "no", "0"):
            return False
        raise ValueError(f"{name}: expected on or off, got {text!r}")
    if qtype == "StrOrNull" or qtype == "str":
        return text
    if qtype in ENUMS:
        allowed = enum_values(qtype)
        if text not in allowed:
            raise ValueError(f"{name}: expected one of {', '.join(allowed)}, got {text!r}")
        return text
    if qtype in INT_RANGES:
        value = _parse_number(name, meta.unit, text)
        lo, hi = INT_RANGES[qtype]
        lo = max(lo, meta.lo) if meta.lo is not None else lo
        hi = min(hi, meta.hi) if meta.hi is not None else hi
        if not lo <= value <= hi:
            raise ValueError(f"{name}: {value} is out of range {lo}..{hi}")
        return value
    raise ValueError(f"{name}: cannot edit values of type {qtype}")


def _parse_list(name: str, qtype: list[Any], text: str) -> Any:
    """A list parameter typed as JSON, each item checked against its struct."""
    try:
        value = json.loads(text or "[]")
    except json.JSONDecodeError as e:
        raise ValueError(f"{name}: not valid JSON ({e.msg} at column {e.colno})") from None
    try:
        parsed = parse_value(qtype, value)
    except ParseError as e:
        raise ValueError(f"{name}: {e}") from None
    for i, node in enumerate(parsed):
        if not isinstance(node, Record):
            continue
        problems = node.all_errors() | {m: "missing" for m in node.missing}
        if problems:
            where, what = next(iter(problems.items()))
            raise ValueError(f"{name}: item {i + 1}: {where}: {what}")
    if name == "block-bitmap-mapping":
        _check_bitmap_mapping(name, value)
    return value


def _parse_number(name: str, unit: str, text: str) -> int:
    try:
        if unit in ("bytes", "bytes/s"):
            return units.parse_size(text)
        if unit == "ms":
            return units.parse_duration_ms(text)
        cleaned = text.rstrip("%").strip()
        if unit == "MiB/s":
            cleaned = cleaned.removesuffix("MiB/s").removesuffix("MB/s").strip()
        return int(cleaned, 0)
    except ValueError as e:
        msg = str(e) if str(e).startswith("not ") else f"not a whole number: {text!r}"
        raise ValueError(f"{name}: {msg}") from None


def _check_bitmap_mapping(name: str, value: list[dict[str, Any]]) -> None:
    nodes = [n.get("node-name") for n in value]
    if len(nodes) != len(set(nodes)):
        raise ValueError(f"{name}: a node-name appears twice")
    for node in value:
        aliases = [b.get("alias") for b in node.get("bitmaps", [])]
        if len(aliases) != len(set(aliases)):
            raise ValueError(f"{name}: bitmap alias repeated in node {node.get('node-name')}")


def format_value(name: str, value: Any) -> str:
    """A parameter value as a person reads it: ``100 MiB/s``, ``300 ms``, ``on``."""
    if value is None:
        return "-"
    unit = info(name).unit
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, dict, Record)):
        return json.dumps(to_wire(value), separators=(",", ":")) if value else "[]"
    if isinstance(value, int):
        if value == 0 and name == "max-postcopy-bandwidth":
            return "unlimited"
        return units.format_in(value, unit)
    if value == "":
        return '""'
    return str(value)


def format_input(name: str, value: Any) -> str:
    """A value as text that ``parse_input`` reads back to the same value."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, int) and info(name).unit in ("bytes", "bytes/s"):
        return units.format_size_input(value)
    return "" if value is None else str(value)
