"""What a person types for a parameter, checked against its type and range, and read back."""

from __future__ import annotations

import json

import pytest

from qmigtui.model import capabilities, parameters, units
from qmigtui.model.parameters import format_value
from qmigtui.model.records import members, parse_record


@pytest.mark.parametrize(("name", "text", "value"), [
    ("max-bandwidth", "100M", 100 << 20), ("max-bandwidth", "1.5G", 3 << 29),
    ("xbzrle-cache-size", "512k", 512 << 10), ("max-bandwidth", "128MiB/s", 128 << 20),
    ("downtime-limit", "300", 300), ("downtime-limit", "1.5s", 1500), ("downtime-limit", "20ms", 20),
    ("cpu-throttle-tailslow", "on", True), ("cpu-throttle-tailslow", "off", False),
    ("multifd-compression", "zlib", "zlib"), ("mode", "cpr-reboot", "cpr-reboot"),
    ("tls-creds", "", ""), ("tls-hostname", "dst.example", "dst.example"),
    ("cpu-throttle-initial", "20%", 20), ("multifd-channels", "8", 8),
    ("block-bitmap-mapping", '[{"node-name":"n","alias":"a","bitmaps":[]}]',
     [{"node-name": "n", "alias": "a", "bitmaps": []}]),
])
def test_typed_input_parses(name, text, value):
    assert parameters.parse_input(name, text) == value


@pytest.mark.parametrize(("name", "text", "needle"), [
    ("max-bandwidth", "fast", "not a size"), ("max-bandwidth", "1.5", "whole number"),
    ("downtime-limit", "-1", "not a duration"), ("downtime-limit", "3000s", "out of range"),
    ("cpu-throttle-initial", "0", "out of range"), ("max-cpu-throttle", "100", "out of range"),
    ("multifd-channels", "256", "out of range"), ("multifd-compression", "lz4", "expected one of"),
    ("cpu-throttle-tailslow", "maybe", "on or off"), ("block-bitmap-mapping", "[{", "not valid JSON"),
    ("block-bitmap-mapping", '[{"node-name":1}]', "expected a string"),
    ("block-bitmap-mapping", '[{"node-name":"n","alias":"a","bitmaps":[]},'
                             '{"node-name":"n","alias":"b","bitmaps":[]}]', "twice"),
])
def test_bad_input_is_refused_with_a_one_line_reason(name, text, needle):
    with pytest.raises(ValueError, match=needle) as e:
        parameters.parse_input(name, text)
    assert "\n" not in str(e.value) and str(e.value).startswith(name)


def test_every_settable_parameter_has_a_catalog_entry_and_round_trips():
    samples = {"bytes": 64 << 20, "bytes/s": 100 << 20, "ms": 300, "%": 20, "count": 4,
               "level": 1, "MiB/s": 8, "bool": True, "text": "x", "enum": None, "json": []}
    for m in members("MigrateSetParameters"):
        meta = parameters.info(m.name)
        assert meta.help, m.name
        value = samples[meta.unit]
        if meta.unit == "enum":
            value = {"multifd-compression": "none", "mode": "normal"}[m.name]
        text = parameters.format_input(m.name, value)
        assert parameters.parse_input(m.name, text) == value, m.name
        assert parameters.format_value(m.name, value)


def test_units_read_and_write():
    assert units.format_bytes(100 << 20) == "100 MiB" and units.format_bytes(None) == "-"
    assert units.format_ms(850) == "850 ms" and units.format_ms(185_000) == "3m05s"
    assert units.format_size_input(1536 << 10) == "1536k" and units.format_rate(1 << 20) == "1.0 MiB/s"


def test_capability_rules_need_match_and_conflict():
    assert capabilities.check_change("switchover-ack", True, {"return-path": False}) == [
        "switchover-ack needs return-path on"]
    assert capabilities.check_change("return-path", False, {"switchover-ack": True}) == [
        "switchover-ack needs return-path on"]
    assert "must match" in capabilities.check_change("postcopy-ram", True, {}, {"postcopy-ram": False})[0]
    assert capabilities.check_change("postcopy-ram", True, {}, {"postcopy-ram": True}) == []
    assert capabilities.check_change("dirty-limit", True, {"auto-converge": True})
    assert all(capabilities.describe(c) for c in capabilities.DESCRIPTIONS)


def test_a_parameter_holding_structs_reads_back_as_its_json():
    mapping = [{"node-name": "disk0", "alias": "d0", "bitmaps": [{"name": "b", "alias": "b0"}]}]
    params = parse_record("MigrationParameters", {"block-bitmap-mapping": mapping})
    shown = format_value("block-bitmap-mapping", params.get("block-bitmap-mapping"))
    assert json.loads(shown) == mapping


@pytest.mark.parametrize(("name", "live", "text", "value"), [
    ("direct-io", "boolean", "on", True),  # QEMU 10: unknown to the 8.2 tables, was sent as "on"
    ("zero-page-detection", "enum(none|legacy|multifd)", "multifd", "multifd"),
    ("mode", "enum(normal|cpr-reboot|cpr-transfer)", "cpr-transfer", "cpr-transfer"),
    ("multifd-qatzip-level", "int", "7", 7),
    ("max-bandwidth", "int", "1G", 1 << 30),  # our unit still reads sizes
    ("tls-hostname", "string or null", "dst.example", "dst.example"),
    ("some-future-list", "[object]", '[{"a": 1}]', [{"a": 1}]),
])
def test_the_live_schema_types_what_is_typed(name, live, text, value):
    assert parameters.parse_input(name, text, live) == value


@pytest.mark.parametrize(("name", "live", "text", "needle"), [
    ("direct-io", "boolean", "maybe", "expected on or off"),
    ("mode", "enum(normal|cpr-reboot)", "cpr-transfer", "expected one of normal, cpr-reboot"),
    ("multifd-qatzip-level", "int", "seven", "not a whole number"),
    ("downtime-limit", "int", "3000000", "out of range"),  # our range still holds
])
def test_the_live_schema_refuses_what_does_not_fit(name, live, text, needle):
    with pytest.raises(ValueError, match=needle):
        parameters.parse_input(name, text, live)


def test_a_value_only_a_newer_qemu_reports_is_shown_as_it_came():
    params = parse_record("MigrationParameters", {"direct-io": False, "zero-page-detection": "legacy"})
    assert format_value("direct-io", parameters.value_of(params, "direct-io")) == "off"
    assert parameters.value_of(params, "zero-page-detection") == "legacy"
