"""Parsing every struct of migration.json: schema examples, real QEMU output, garbage."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qmigtui.model.records import STRUCTS, members, parse_list, parse_record
from tests.conftest import migration_qapi

REAL_QEMU_72_COMPLETED = {
    "status": "completed", "setup-time": 1, "downtime": 5, "total-time": 41,
    "ram": {"total": 134750208, "postcopy-requests": 0, "dirty-sync-count": 2, "multifd-bytes": 0,
            "pages-per-second": 0, "downtime-bytes": 2189005, "page-size": 4096, "remaining": 0,
            "postcopy-bytes": 0, "mbps": 626.7026, "transferred": 3021624,
            "dirty-sync-missed-zero-copy": 0, "precopy-bytes": 832619, "duplicate": 32941,
            "dirty-pages-rate": 0, "skipped": 0, "normal-bytes": 2719744, "normal": 664},
}


def schema_examples() -> list[tuple[str, object]]:
    """(command, reply) for every ``<- {"return": ...}`` example in migration.json's docs."""
    return [(command, reply) for command, reply in migration_qapi()["return_examples"]]


RETURNS = {"query-migrate": "MigrationInfo", "query-migrate-parameters": "MigrationParameters",
           "query-migrate-capabilities": "MigrationCapabilityStatus", "query-dirty-rate": "DirtyRateInfo",
           "query-vcpu-dirty-limit": "DirtyLimitInfo", "query-migrationthreads": "MigrationThreadInfo",
           "query-colo-status": "COLOStatus", "query-xen-replication-status": "ReplicationStatus"}


def test_every_return_example_in_the_schema_parses_without_errors():
    seen = set()
    for command, reply in schema_examples():
        type_name = RETURNS.get(command)
        if type_name is None:
            continue
        is_list = isinstance(reply, list)
        records = parse_list(type_name, reply) if is_list else [parse_record(type_name, reply)]
        for r in records:
            assert r.all_errors() == {}, (command, r.all_errors())
        seen.add(command)
    assert {"query-migrate", "query-migrate-parameters", "query-migrate-capabilities"} <= seen


def test_real_qemu_reply_parses_with_attribute_and_path_access():
    info = parse_record("MigrationInfo", REAL_QEMU_72_COMPLETED)
    assert info.text("status") == "completed" and info.number("ram.transferred") == 3021624
    assert info.path("ram.mbps") == 626.7026 and info.path("xbzrle-cache.bytes") is None
    assert info.all_errors() == {} and info.to_json() == REAL_QEMU_72_COMPLETED


def test_unknown_fields_are_kept_missing_are_absent_wrong_types_are_field_errors():
    info = parse_record("MigrationInfo", {
        "status": "postcopy-recover-setup",  # a status from a newer QEMU
        "ram": {"transferred": "lots", "remaining": -1, "total": 2**70, "new-counter": 7},
        "expected-downtime": True, "future-field": {"x": 1}})
    assert info.text("status") == "postcopy-recover-setup"
    assert info.extra == {"future-field": {"x": 1}} and info.child("ram").extra == {"new-counter": 7}
    errors = info.all_errors()
    assert "integer" in errors["ram.transferred"] and "out of range" in errors["ram.total"]
    assert "expected-downtime" in errors and info.number("expected-downtime") is None
    assert info.number("ram.remaining") == -1 and "duplicate" in info.child("ram").missing
    assert info.number("downtime") is None and "downtime" not in info


def test_peer_strings_lose_control_and_escape_characters():
    info = parse_record("MigrationInfo", {"status": "failed", "error-desc": "bad\x1b[2J\x07 link\r\nx"})
    assert info.text("error-desc") == "bad link  x"  # the whole escape sequence goes


def test_every_struct_has_members_and_parses_an_empty_object():
    for name in STRUCTS:
        assert members(name), name
        parse_record(name, {})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(STRUCTS)), data=json_values)
def test_fuzzed_json_never_crashes_a_parser(name, data):
    record = parse_record(name, data)
    record.all_errors()
    record.to_json()


@settings(max_examples=200, deadline=None)
@given(data=st.dictionaries(st.sampled_from([m.name for m in members("MigrationInfo")] + ["x"]),
                            json_values, max_size=8))
def test_fuzzed_migration_info_members_never_crash(data):
    parse_record("MigrationInfo", data).all_errors()
