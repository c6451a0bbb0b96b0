"""Typed records for every struct of migration.json, parsed from QMP replies.

A ``Record`` checks each member against its QAPI type: the type a connected QEMU's own
introspection gives (a ``Types`` table built from it), else the shipped definitions of
migration.json. Unknown members are kept in ``extra``; a missing optional member is simply
absent; a member of the wrong type is left out and its reason kept in ``errors``. Parsing
never raises, whatever the input.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, overload

from qmigtui.model import qapi_extra, qapi_spec
from qmigtui.model.record_paths import (
    AddressPath,
    CapabilityPath,
    DirtyRatePath,
    DirtyRateVcpuPath,
    InfoPath,
    ParametersPath,
)
from qmigtui.model.text import clean

K = TypeVar("K", bound=str)  # the member paths of a record's struct (record_paths.py)

STRUCTS: dict[str, Any] = {**qapi_spec.STRUCTS, **qapi_extra.STRUCTS}
ENUMS: dict[str, Any] = {**qapi_spec.ENUMS, **qapi_extra.ENUMS}
UNIONS: dict[str, Any] = {**qapi_spec.UNIONS, **qapi_extra.UNIONS}


@dataclass(frozen=True, eq=False)
class Types:
    """QAPI definitions in migration.json's shape (structs, enums, unions), by type name:
    the shipped ones, or those a QEMU's introspection gives (qmp/schema.py builds them)."""

    structs: dict[str, Any]
    enums: dict[str, Any]
    unions: dict[str, Any]


SHIPPED = Types(STRUCTS, ENUMS, UNIONS)

INT_RANGES: dict[str, tuple[int, int]] = {
    "int": (-(1 << 63), (1 << 63) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
    "uint8": (0, 255),
    "uint16": (0, 65535),
    "uint32": (0, (1 << 32) - 1),
    "uint64": (0, (1 << 64) - 1),
    "size": (0, (1 << 64) - 1),
    "json-int": (-(1 << 63), (1 << 64) - 1),  # introspection says "int" for every integer type
}


@dataclass(frozen=True)
class Member:
    """One member of a struct: its wire name, QAPI type, and QAPI features."""

    name: str
    type: Any
    optional: bool
    features: tuple[str, ...] = ()

    @property
    def deprecated(self) -> bool:
        return "deprecated" in self.features

    @property
    def unstable(self) -> bool:
        return "unstable" in self.features


@functools.cache
def members(type_name: str, types: Types = SHIPPED) -> tuple[Member, ...]:
    """The members of a struct, or the base of a union, in schema order (cached: parsed every poll)."""
    if type_name in types.unions:
        data = types.unions[type_name]["base"]
    elif type_name in types.structs:
        data = types.structs[type_name]["data"]
    else:
        raise KeyError(type_name)
    out = []
    for raw_name, raw_type in data.items():
        features: tuple[str, ...] = ()
        if isinstance(raw_type, dict):
            features = tuple(raw_type.get("features", ()))
            raw_type = raw_type["type"]
        out.append(Member(raw_name.lstrip("*"), raw_type, raw_name.startswith("*"), features))
    return tuple(out)


def enum_values(enum_name: str) -> list[str]:
    """The values of an enum, in schema order."""
    return [v["name"] if isinstance(v, dict) else v for v in ENUMS[enum_name]["data"]]


def enum_features(enum_name: str) -> dict[str, tuple[str, ...]]:
    """Value -> QAPI features, for the values that carry any."""
    return {v["name"]: tuple(v.get("features", ())) for v in ENUMS[enum_name]["data"]
            if isinstance(v, dict)}


_SPLIT: dict[str, tuple[str, ...]] = {}  # dotted paths split once (the paths are the code's own)


class ParseError(ValueError):
    """A value does not fit its QAPI type."""


@dataclass(frozen=True)
class Record(Generic[K]):
    """A parsed struct: checked members, plus what did not fit.

    Members read through typed getters (``info.text("status")``,
    ``info.number("ram.remaining")``): a member that is absent or of another type
    reads as None, so nothing a peer sends reaches the caller with a wrong type. A record of
    a struct the project reads is a ``Record[ItsPaths]``: mypy checks each path read.
    """

    type_name: str
    values: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def text(self, key: K) -> str | None:
        """A string member, or None (absent, or not a string)."""
        value = self.path(key)
        return value if isinstance(value, str) else None

    def number(self, key: K) -> float | None:
        """A number member (an int stays an int), or None; ``key`` may be dotted."""
        value = self.path(key)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def flag(self, key: K) -> bool | None:
        value = self.path(key)
        return value if isinstance(value, bool) else None

    def child(self, key: K) -> Record[Any] | None:
        """A nested struct member, or None."""
        value = self.path(key)
        return value if isinstance(value, Record) else None

    def children(self, key: K) -> list[Record[Any]]:
        """A list-of-structs member (empty when absent)."""
        value = self.path(key)
        return [v for v in value if isinstance(v, Record)] if isinstance(value, list) else []

    def numbers(self, key: K) -> list[float]:
        """A list-of-numbers member (empty when absent; items of another type left out)."""
        value = self.path(key)
        return [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)] \
            if isinstance(value, list) else []

    def texts(self, key: K) -> list[str]:
        """A list-of-strings member (empty when absent)."""
        value = self.path(key)
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    def path(self, dotted: K) -> Any:
        """``info.path("ram.transferred")``: a nested member, or None."""
        parts = _SPLIT.get(dotted)
        if parts is None:
            parts = _SPLIT[dotted] = tuple(dotted.split("."))
        node: Any = self
        for part in parts:
            if not isinstance(node, Record):
                return None
            node = node.values.get(part)
        return node

    def all_errors(self, prefix: str = "") -> dict[str, str]:
        """Field errors of this record and every nested one, by dotted path."""
        out = {f"{prefix}{k}": v for k, v in self.errors.items()}
        for key, value in self.values.items():
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                if isinstance(item, Record):
                    sub = f"{prefix}{key}[{i}]." if isinstance(value, list) else f"{prefix}{key}."
                    out |= item.all_errors(sub)
        return out

    def to_json(self) -> dict[str, Any]:
        """Back to wire form (unknown members included)."""
        return {k: to_wire(v) for k, v in self.values.items()} | self.extra


def to_wire(value: Any) -> Any:
    """A parsed value (records, lists of them, plain values) back to what QMP carries."""
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, list):
        return [to_wire(x) for x in value]
    return value


def parse_value(qtype: Any, value: Any, types: Types = SHIPPED) -> Any:
    """Check and convert one value of a QAPI type; raise ParseError when it does not fit."""
    if isinstance(qtype, list):
        if not isinstance(value, list):
            raise ParseError(f"expected a list, got {_kind(value)}")
        return [parse_value(qtype[0], v, types) for v in value]
    if qtype in INT_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParseError(f"expected an integer ({qtype}), got {_kind(value)}")
        lo, hi = INT_RANGES[qtype]
        if not lo <= value <= hi:
            raise ParseError(f"{value} is out of range for {qtype}")
        return value
    if qtype == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParseError(f"expected a number, got {_kind(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ParseError("expected a finite number")
        return value
    if qtype == "bool":
        if not isinstance(value, bool):
            raise ParseError(f"expected true or false, got {_kind(value)}")
        return value
    if qtype == "str":
        if not isinstance(value, str):
            raise ParseError(f"expected a string, got {_kind(value)}")
        return clean(value)
    if qtype == "StrOrNull":
        return None if value is None else parse_value("str", value)
    if qtype in types.enums:
        if not isinstance(value, str):
            raise ParseError(f"expected one of {qtype}, got {_kind(value)}")
        return clean(value, 64)  # a value a newer QEMU added is kept as it is
    if qtype in types.structs or qtype in types.unions:
        if not isinstance(value, dict):
            raise ParseError(f"expected an object ({qtype}), got {_kind(value)}")
        return parse_record(qtype, value, types)
    if qtype == "any":
        return value
    raise ParseError(f"unknown type {qtype}")


InfoRecord = Record[InfoPath]
ParametersRecord = Record[ParametersPath]
CapabilityRecord = Record[CapabilityPath]
AddressRecord = Record[AddressPath]
DirtyRateRecord = Record[DirtyRatePath]
DirtyRateVcpuRecord = Record[DirtyRateVcpuPath]


@overload
def parse_record(type_name: Literal["MigrationInfo"], data: Any, types: Types = ...) -> InfoRecord: ...
@overload
def parse_record(type_name: Literal["MigrationParameters"], data: Any,
                 types: Types = ...) -> ParametersRecord: ...
@overload
def parse_record(type_name: Literal["MigrationCapabilityStatus"], data: Any,
                 types: Types = ...) -> CapabilityRecord: ...
@overload
def parse_record(type_name: Literal["SocketAddress"], data: Any, types: Types = ...) -> AddressRecord: ...
@overload
def parse_record(type_name: Literal["DirtyRateInfo"], data: Any, types: Types = ...) -> DirtyRateRecord: ...
@overload
def parse_record(type_name: str, data: Any, types: Types = ...) -> Record[Any]: ...
def parse_record(type_name: str, data: Any, types: Types = SHIPPED) -> Record[Any]:
    """Parse a reply object into a Record of ``type_name``; never raises."""
    if not isinstance(data, dict):
        return Record(type_name, {}, {}, {"": f"expected an object ({type_name}), got {_kind(data)}"})
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    missing: list[str] = []
    known = members(type_name, types)
    if type_name in types.unions:
        spec = types.unions[type_name]
        branch = spec["data"].get(data.get(spec["discriminator"]))
        if branch is not None:
            known = known + members(branch, types)
    names = {m.name for m in known}
    for m in known:
        if m.name not in data:
            if not m.optional:
                missing.append(m.name)  # an older or newer QEMU: absent, not an error
            continue
        try:
            values[m.name] = parse_value(m.type, data[m.name], types)
        except ParseError as e:
            errors[m.name] = str(e)
        except RecursionError:
            errors[m.name] = "nested too deeply"
    extra = {clean(str(k), 64): v for k, v in data.items() if k not in names}
    return Record(type_name, values, extra, errors, tuple(missing))


@overload
def parse_list(type_name: Literal["MigrationCapabilityStatus"], data: Any) -> list[CapabilityRecord]: ...
@overload
def parse_list(type_name: str, data: Any) -> list[Record[Any]]: ...
def parse_list(type_name: str, data: Any) -> list[Record[Any]]:
    """Parse a reply that is a list of ``type_name``; a non-list gives one error record."""
    if not isinstance(data, list):
        return [parse_record(type_name, data)]
    return [parse_record(type_name, item) for item in data]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)
