"""What one QEMU supports, read from its ``query-qmp-schema``.

Introspection hides type names behind numbers; this module resolves them so
the rest of qmigtui can ask plain questions: which commands, events,
capabilities, parameters and statuses exist, and which are deprecated or
unstable.
"""

from __future__ import annotations

import functools
import hashlib
import json
import weakref
from dataclasses import dataclass, field
from typing import Any

from qmigtui.model import records
from qmigtui.model.commands import Arg, CommandInfo

__all__ = ["Arg", "CommandInfo", "Schema", "load_schema"]

# introspection's JSON types -> the records' QAPI types (every integer type is "int" there)
_BUILTINS = {"int": "json-int", "number": "number", "string": "str", "boolean": "bool", "value": "any"}
INT_NAMES = {"int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "size"}


@dataclass
class Schema:
    """Resolved introspection data of one QEMU."""

    raw: list[dict[str, Any]]
    types: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: dict[str, CommandInfo] = field(default_factory=dict)
    events: dict[str, tuple[Arg, ...]] = field(default_factory=dict)
    _reply_types: dict[tuple[str, str], records.Types] = field(default_factory=dict, repr=False)

    @classmethod
    def from_introspection(cls, raw: Any) -> Schema:
        """Build from the reply of ``query-qmp-schema``; raise ValueError when it is not one."""
        if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
            raise ValueError("query-qmp-schema did not return a list of objects")
        self = cls(raw)
        self.types = {str(e.get("name")): e for e in raw}
        for e in raw:
            meta = e.get("meta-type")
            if meta == "command":
                self.commands[e["name"]] = CommandInfo(
                    e["name"], self._object_args(e.get("arg-type")), self.describe(e.get("ret-type")),
                    tuple(e.get("features", ())), bool(e.get("allow-oob")))
            elif meta == "event":
                self.events[e["name"]] = self._object_args(e.get("arg-type"))
        return self

    # -- resolving ------------------------------------------------------

    def _object_args(self, type_name: str | None, depth: int = 0) -> tuple[Arg, ...]:
        """Members of an object type; a union's variant members too (each optional, since
        it belongs to one branch: object-add's secret takes 'data', a memory backend 'size')."""
        entry = self.types.get(str(type_name))
        if not entry or entry.get("meta-type") != "object" or depth > 2:
            return ()
        args = [Arg(m["name"], self.describe(m["type"]), "default" in m, tuple(m.get("features", ())))
                for m in entry.get("members", ())]
        seen = {a.name for a in args}
        for variant in entry.get("variants", ()):
            for arg in self._object_args(variant.get("type"), depth + 1):
                if arg.name not in seen:
                    seen.add(arg.name)
                    args.append(Arg(arg.name, arg.type, True, arg.features))
        return tuple(args)

    def members_of(self, type_name: str) -> tuple[Arg, ...]:
        """Members of an object type (by introspection name)."""
        return self._object_args(type_name)

    def enum_values(self, type_name: str) -> list[str]:
        entry = self.types.get(str(type_name), {})
        return list(entry.get("values", ()))

    def enum_features(self, type_name: str) -> dict[str, tuple[str, ...]]:
        """Value -> features, from ``members`` (QEMU 8.0 and later)."""
        entry = self.types.get(str(type_name), {})
        return {m["name"]: tuple(m.get("features", ())) for m in entry.get("members", ())
                if m.get("features")}

    def describe(self, type_name: Any, depth: int = 0) -> str:
        """A readable name for an introspection type."""
        if type_name is None:
            return "none"
        entry = self.types.get(str(type_name))
        if entry is None or depth > 4:
            return str(type_name)
        meta = entry.get("meta-type")
        if meta == "builtin":
            return str(entry.get("json-type", type_name)) if entry["name"] not in INT_NAMES else "int"
        if meta == "enum":
            return "enum(" + "|".join(entry.get("values", ())) + ")"
        if meta == "array":
            return "[" + self.describe(entry.get("element-type"), depth + 1) + "]"
        if meta == "alternate":
            return " or ".join(self.describe(m["type"], depth + 1) for m in entry.get("members", ()))
        if meta == "object":
            return "object"
        return str(meta)

    def command_arg(self, command: str, arg: str) -> Arg | None:
        info = self.commands.get(command)
        return next((a for a in info.args if a.name == arg), None) if info else None

    def _arg_type_name(self, command: str, arg: str) -> str | None:
        entry = self.types.get(command)
        obj = self.types.get(str(entry.get("arg-type"))) if entry else None
        for m in (obj or {}).get("members", ()):
            if m["name"] == arg:
                return str(m["type"])
        return None

    # -- migration questions -------------------------------------------

    def has(self, command: str) -> bool:
        return command in self.commands

    @functools.cached_property
    def capabilities(self) -> list[str]:
        """Migration capabilities this QEMU knows, in its order."""
        enum_name = self._capability_enum()
        return self.enum_values(enum_name) if enum_name else []

    def _capability_enum(self) -> str | None:
        arr = self._arg_type_name("migrate-set-capabilities", "capabilities")
        elem = self.types.get(str(arr), {}).get("element-type")
        for m in self.types.get(str(elem), {}).get("members", ()):
            if m["name"] == "capability":
                return str(m["type"])
        return None

    def capability_features(self, capability: str) -> tuple[str, ...]:
        """Features of a capability: from this QEMU when it says, else from migration.json."""
        enum_name = self._capability_enum()
        live = self.enum_features(enum_name) if enum_name else {}
        if capability in live:
            return live[capability]
        if self._enum_has_members(enum_name):
            return ()
        return records.enum_features("MigrationCapability").get(capability, ())

    def _enum_has_members(self, enum_name: str | None) -> bool:
        return bool(self.types.get(str(enum_name), {}).get("members"))

    @functools.cached_property
    def parameters(self) -> dict[str, Arg]:
        """Settable migration parameters (members of migrate-set-parameters), by name."""
        info = self.commands.get("migrate-set-parameters")
        return {a.name: a for a in info.args} if info else {}

    @property
    def migration_modes(self) -> tuple[str, ...]:
        """The values of the ``mode`` parameter (normal and the CheckPoint-and-Restart modes);
        empty where this QEMU has no such parameter."""
        arg = self.parameters.get("mode")
        if arg is None or not arg.type.startswith("enum("):
            return ()
        return tuple(arg.type[5:-1].split("|"))

    def parameter_features(self, name: str) -> tuple[str, ...]:
        arg = self.parameters.get(name)
        if arg is not None and arg.features:
            return arg.features
        for m in records.members("MigrateSetParameters"):
            if m.name == name:
                return m.features
        return ()

    @property
    def statuses(self) -> list[str]:
        """Values of MigrationStatus this QEMU can report."""
        for arg in self.events.get("MIGRATION", ()):
            if arg.name == "status" and arg.type.startswith("enum("):
                return arg.type[5:-1].split("|")
        return records.enum_values("MigrationStatus")

    # -- replies typed by this QEMU ---------------------------------------

    def reply_types(self, command: str, root: str) -> records.Types:
        """``command``'s reply type as a records table whose top type is named ``root`` (and
        the types below it by member path: ``MigrationInfo.ram``), every member typed as this
        QEMU says; the shipped definitions when the schema lacks the command or gives its
        reply no members. Structs are
        followed by member, never by name (11.1 calls MigrationStats MigrationRAMStats)."""
        key = (command, root)
        if key not in self._reply_types:
            entry = self.types.get(command, {})
            ret = entry.get("ret-type") if entry.get("meta-type") == "command" else None
            reply = self.types.get(str(ret), {})
            if reply.get("meta-type") != "object" or not reply.get("members"):
                # no command, or a reply with no members (a domain under libvirt describes
                # only its calls): the shipped definitions type it
                self._reply_types[key] = records.SHIPPED
            else:
                table = records.Types({}, {}, {})
                self._convert(ret, root, table, {})
                self._reply_types[key] = table
        return self._reply_types[key]

    def _convert(self, name: Any, path: str, out: records.Types, seen: dict[str, str]) -> Any:
        entry = self.types.get(str(name))
        if entry is None:
            return "any"
        meta = entry.get("meta-type")
        if meta == "builtin":
            return _BUILTINS.get(str(entry.get("json-type")), "any")
        if meta == "enum":
            out.enums[path] = {"data": [
                {"name": m["name"], "features": m["features"]} if m.get("features") else m["name"]
                for m in entry.get("members", ())] or list(entry.get("values", ()))}
            return path
        if meta == "array":
            return [self._convert(entry.get("element-type"), path, out, seen)]
        if meta == "alternate":
            kinds = {self.types.get(str(m.get("type")), {}).get("json-type")
                     for m in entry.get("members", ())}
            return "StrOrNull" if kinds == {"string", "null"} else "any"
        if meta != "object":
            return "any"
        if str(name) in seen:  # a type that holds itself
            return seen[str(name)]
        seen[str(name)] = path
        data: dict[str, Any] = {}
        for m in entry.get("members", ()):
            qtype = self._convert(m.get("type"), f"{path}.{m['name']}", out, seen)
            key = ("*" if "default" in m else "") + m["name"]
            data[key] = {"type": qtype, "features": list(m["features"])} if m.get("features") else qtype
        if entry.get("tag"):
            out.unions[path] = {"base": data, "discriminator": entry["tag"], "data": {
                v["case"]: self._convert(v.get("type"), f"{path}[{v['case']}]", out, seen)
                for v in entry.get("variants", ())}}
        else:
            out.structs[path] = {"data": data}
        return path

    def digest(self) -> str:
        """A short stable fingerprint of this schema (for recordings)."""
        blob = json.dumps(self.raw, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


_resolved: weakref.WeakValueDictionary[str, Schema] = weakref.WeakValueDictionary()


async def load_schema(session: Any) -> Schema:
    """Fetch and resolve the schema of a connected session. QEMUs that answer the very same
    introspection (a fleet of one build) share one resolved Schema: by content, never by a
    version string."""
    raw = await session.execute("query-qmp-schema", timeout=10)
    try:
        key = hashlib.sha256(json.dumps(raw, separators=(",", ":")).encode()).hexdigest()
    except (TypeError, ValueError):
        return Schema.from_introspection(raw)
    schema = _resolved.get(key)
    if schema is None:
        schema = Schema.from_introspection(raw)
        _resolved[key] = schema
    return schema
