"""Every member of what QEMU 7.2, 10.0 and 11.1 answer is typed by that QEMU's own schema and
known to our tables: a unit where it has one, and a line on its meaning. The introspection of
each (query-qmp-schema, recorded from Debian's builds) is kept in tests/data."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from qmigtui.model import records
from qmigtui.model.capabilities import DESCRIPTIONS
from qmigtui.model.describe import info_rows
from qmigtui.model.members import member_info, remaining
from qmigtui.model.parameters import CATALOG
from qmigtui.model.states import MEANING, RUNNING, TERMINAL
from qmigtui.qmp.schema import Schema

DATA = Path(__file__).resolve().parents[1] / "data"
VERSIONS = ("7.2", "10.0", "11.1")
NUMERIC = {"json-int", "number"}


def schema_of(version: str) -> Schema:
    with gzip.open(DATA / f"qmp-schema-{version}.json.gz", "rt") as f:
        return Schema.from_introspection(json.load(f))


def leaves(types: records.Types, name: str, prefix: str = "") -> dict[str, Any]:
    """dotted member path -> its type (list types as their item's), at any depth."""
    out: dict[str, Any] = {}
    spec = types.unions.get(name)
    data = spec["base"] if spec else types.structs[name]["data"]
    for branch in (spec["data"].values() if spec else ()):
        out |= leaves(types, branch, prefix)
    for key, qtype in data.items():
        qtype = qtype["type"] if isinstance(qtype, dict) else qtype
        item = qtype[0] if isinstance(qtype, list) else qtype
        path = prefix + key.lstrip("*")
        if item in types.structs or item in types.unions:
            out |= leaves(types, item, path + ".")
        else:
            out[path] = item
    return out


@pytest.mark.parametrize("version", VERSIONS)
def test_every_migration_info_member_has_a_type_a_unit_and_a_meaning(version):
    types = schema_of(version).reply_types("query-migrate", "MigrationInfo")
    members = leaves(types, "MigrationInfo")
    assert len(members) > 40
    for path, qtype in members.items():
        assert qtype != "any", f"{version}: {path} is untyped"
        info = member_info(path)
        assert not info.new and info.help, f"{version}: {path} has no description"
        if qtype in NUMERIC:
            assert info.unit, f"{version}: {path} is a number without a unit"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_parameter_capability_and_status_is_described(version):
    schema = schema_of(version)
    for name, arg in schema.parameters.items():
        assert arg.type, f"{version}: parameter {name} has no type"
        assert name in CATALOG and CATALOG[name].help, f"{version}: parameter {name} is not described"
    for capability in schema.capabilities:
        assert DESCRIPTIONS.get(capability), f"{version}: capability {capability} is not described"
    for status in schema.statuses:
        assert MEANING.get(status), f"{version}: status {status} has no meaning"
        assert status in RUNNING or status in TERMINAL, f"{version}: {status} is in no state list"


def test_qemu_11_1_members_are_typed_live_with_units_and_never_cut():
    types = schema_of("11.1").reply_types("query-migrate", "MigrationInfo")
    reply = {"status": "postcopy-active", "remaining": 266870784,
             "ram": {"transferred": 1, "remaining": 200000000, "total": 536870912, "duplicate": 0,
                     "normal": 0, "normal-bytes": 0, "dirty-pages-rate": 0, "mbps": 1.0,
                     "dirty-sync-count": 2, "postcopy-requests": 9, "page-size": 4096,
                     "multifd-bytes": 0, "pages-per-second": 1, "precopy-bytes": 0,
                     "downtime-bytes": 0, "postcopy-bytes": 0,
                     "dirty-sync-missed-zero-copy": 18446744073709551615},
             "postcopy-latency": 16761320, "postcopy-latency-dist": [0, 3, 17, 2],
             "postcopy-vcpu-latency": [16761320, 123], "postcopy-non-vcpu-latency": 4}
    info = records.parse_record("MigrationInfo", reply, types)
    assert not info.extra and not info.all_errors()
    rows = dict(info_rows(info))
    assert rows["remaining"] == "255 MiB (266870784)"
    assert rows["postcopy-latency"] == "16.8 ms (16761320 ns)"
    assert rows["postcopy-vcpu-latency"] == "16.8 ms (16761320 ns), 123 ns"
    assert rows["postcopy-latency-dist"] == "0, 3, 17, 2"
    assert rows["ram.dirty-sync-missed-zero-copy"] == "18446744073709551615"
    assert not any("(other)" in k for k in rows)
    assert remaining(info) == 266870784  # RAM and device state, not RAM alone


def test_a_member_no_table_knows_is_shown_whole_typed_and_marked_new():
    with gzip.open(DATA / "qmp-schema-11.1.json.gz", "rt") as f:
        raw = json.load(f)
    schema = Schema.from_introspection(raw)
    root = schema.types[str(schema.types["query-migrate"]["ret-type"])]
    int_type = next(e["name"] for e in raw if e.get("json-type") == "int")
    root["members"].append({"name": "future-wait-ns", "type": int_type, "default": None})
    root["members"].append({"name": "future-note", "type": "str", "default": None})
    types = schema.reply_types("query-migrate", "MigrationInfo")
    long = "x" * 500
    info = records.parse_record("MigrationInfo", {"future-wait-ns": 123456789012, "future-note": long},
                                types)
    rows = dict(info_rows(info))
    assert rows["future-wait-ns (new)"] == "2m03s (123456789012 ns)"
    assert rows["future-note (new)"] == long
    assert records.parse_record("MigrationInfo", {"future-wait-ns": "x"}, types).errors


def test_a_schema_that_gives_the_reply_no_members_falls_back_to_the_shipped_tables():
    from qmigtui.qmp import libvirt_stats
    schema = Schema.from_introspection(libvirt_stats.schema())  # a domain under libvirt
    assert schema.reply_types("query-migrate", "MigrationInfo") is records.SHIPPED
    info = records.parse_record("MigrationInfo", {"status": "active", "ram": {"remaining": 5}},
                                schema.reply_types("query-migrate", "MigrationInfo"))
    assert info.text("status") == "active" and remaining(info) == 5
