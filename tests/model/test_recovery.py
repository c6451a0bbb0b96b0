"""Recovery addresses: real ones prefilled, placeholders and wildcard hosts never sent."""

from __future__ import annotations

import pytest

from qmigtui.model import recovery
from qmigtui.model.records import parse_record
from qmigtui.model.recovery import RecoveryAddresses


def addresses(*items: dict) -> list:
    info = parse_record("MigrationInfo", {"status": "postcopy-paused", "socket-address": list(items)})
    return info.children("socket-address")


def test_the_destination_listening_address_and_the_source_uri_prefill_both_steps():
    got = recovery.suggest(addresses({"type": "inet", "host": "0.0.0.0", "port": "4444"}),
                           "tcp:10.0.0.2:4444")
    assert got == RecoveryAddresses("tcp:0.0.0.0:4444", "tcp:10.0.0.2:4444")


def test_a_specific_listening_host_serves_both_and_a_wildcard_one_leaves_the_source_to_type():
    assert recovery.suggest(addresses({"type": "inet", "host": "192.0.2.7", "port": "5555"}), None) \
        == RecoveryAddresses("tcp:192.0.2.7:5555", "tcp:192.0.2.7:5555")
    assert recovery.suggest(addresses({"type": "inet", "host": "0.0.0.0", "port": "5555"}), None) \
        == RecoveryAddresses("tcp:0.0.0.0:5555", "")
    assert recovery.suggest([], "tcp:h.example:4444") == RecoveryAddresses("tcp:h.example:4444",
                                                                          "tcp:h.example:4444")
    assert recovery.suggest([], None) == RecoveryAddresses("", "")


@pytest.mark.parametrize(("uri", "connecting", "needle"), [
    ("tcp:0.0.0.0:PORT", False, "placeholder"),
    ("tcp:DEST-HOST:4444", True, "placeholder"),
    ("tcp:0.0.0.0:4444", True, "the destination's own address"),
    ("tcp:[::]:4444", True, "the destination's own address"),
    ("tcp:h:99999", True, "a port from 1 to 65535"),
    ("", True, "an address is needed"),
    ("carrier-pigeon:x", True, "unknown transport"),
])
def test_what_is_not_a_real_address_is_refused(uri, connecting, needle):
    found = recovery.problems(uri, connecting)
    assert found and needle in found[0]


def test_a_wildcard_is_fine_to_listen_on_and_real_addresses_pass():
    assert recovery.problems("tcp:0.0.0.0:4444", connecting=False) == []
    assert recovery.problems("tcp:[::1]:4444", connecting=True) == []
    assert recovery.problems("unix:/run/mig.sock", connecting=True) == []


def test_the_other_sides_step_in_qmp_hmp_and_virsh_form():
    steps = recovery.steps_for("destination", RecoveryAddresses("tcp:0.0.0.0:4444", "tcp:h:4444"))
    assert steps[0] == 'QMP:   {"execute": "migrate-recover", "arguments": {"uri": "tcp:0.0.0.0:4444"}}'
    assert steps[1] == "HMP:   migrate_recover tcp:0.0.0.0:4444"
    assert steps[2].startswith("virsh: virsh qemu-monitor-command DOMAIN '{\"execute\": ")
    source = recovery.steps_for("source", RecoveryAddresses("", "tcp:h:4444"))
    assert "migrate -r tcp:h:4444" in source[1] and '"resume": true' in source[0]
