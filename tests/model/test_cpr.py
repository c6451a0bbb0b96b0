"""The CheckPoint-and-Restart modes as plain data: which a QEMU offers (from its recorded
schema), what each needs, and the commands that start it."""

from __future__ import annotations

import json

import pytest

from qmigtui.model import cpr
from qmigtui.model.commands import exec_commands
from tests.model.test_live_schema import schema_of

ALL = ("normal", "cpr-reboot", "cpr-transfer", "cpr-exec")


@pytest.mark.parametrize(("version", "modes"), [
    ("7.2", ()), ("10.0", ("normal", "cpr-reboot", "cpr-transfer")), ("11.1", ALL)])
def test_the_modes_offered_are_the_schemas_own(version, modes):
    assert schema_of(version).migration_modes == modes


def test_every_mode_of_the_newest_qemu_has_a_meaning():
    assert all(cpr.MEANING.get(m) for m in schema_of("11.1").migration_modes)


@pytest.mark.parametrize(("uri", "addr"), [
    ("tcp:127.0.0.1:4444", {"transport": "socket", "type": "inet", "host": "127.0.0.1", "port": "4444"}),
    ("tcp:[::1]:4444", {"transport": "socket", "type": "inet", "host": "::1", "port": "4444"}),
    ("unix:/run/m.sock", {"transport": "socket", "type": "unix", "path": "/run/m.sock"}),
    ("file:/var/vm.state", {"transport": "file", "filename": "/var/vm.state", "offset": 0}),
    ("file:/var/vm.state,offset=4096", {"transport": "file", "filename": "/var/vm.state", "offset": 4096}),
    ("exec:cat > /x", {"transport": "exec", "args": ["/bin/sh", "-c", "cat > /x"]}),
])
def test_a_uri_becomes_the_channel_address_qemu_takes(uri, addr):
    assert cpr.address(uri) == addr


@pytest.mark.parametrize(("request_", "said"), [
    (cpr.StartRequest("tcp:127.0.0.1:4444", "cpr-transfer", "tcp:127.0.0.1:1"), "unix"),
    (cpr.StartRequest("tcp:127.0.0.1:4444", "cpr-transfer", ""), "unix"),
    (cpr.StartRequest("file:/x", "cpr-transfer", "unix:/c"), "file"),
    (cpr.StartRequest("tcp:127.0.0.1:0", "cpr-transfer", "unix:/c"), "port"),
    (cpr.StartRequest("file:/x", "cpr-exec", exec_command="qemu-system-x86_64 -m 1G"), "-incoming"),
    (cpr.StartRequest("file:/x", "cpr-exec", exec_command=""), "command line"),
    (cpr.StartRequest("file:/x", "cpr-exec", exec_command="qemu 'unclosed"), "quotation"),
    (cpr.StartRequest("tcp:127.0.0.1:4444", "cpr-exec", exec_command="q -incoming defer"), "file:"),
    (cpr.StartRequest("unix:/s", "cpr-reboot"), "file:"),
    (cpr.StartRequest("file:/x", "cpr-fancy"), "no migration mode cpr-fancy"),
])
def test_what_a_mode_cannot_be_sent_with_is_said_in_one_line(request_, said):
    with pytest.raises(cpr.CprError, match=said) as err:
        cpr.check(request_, ALL)
    assert "\n" not in str(err.value)


def test_a_mode_the_qemu_lacks_is_refused():
    with pytest.raises(cpr.CprError, match="offers normal, cpr-reboot, cpr-transfer"):
        cpr.check(cpr.StartRequest("file:/x", "cpr-exec", exec_command="q -incoming defer"),
                  ("normal", "cpr-reboot", "cpr-transfer"))


def test_cpr_transfer_sets_the_mode_then_names_both_channels():
    req = cpr.StartRequest("tcp:127.0.0.1:4444", "cpr-transfer", "unix:/run/cpr.sock")
    assert cpr.steps(req, "normal") == [
        ("migrate-set-parameters", {"mode": "cpr-transfer"}),
        ("migrate", {"channels": [
            {"channel-type": "main", "addr": cpr.address("tcp:127.0.0.1:4444")},
            {"channel-type": "cpr", "addr": cpr.address("unix:/run/cpr.sock")}]})]
    assert cpr.steps(req, "cpr-transfer")[0][0] == "migrate"  # already set: not sent again
    opts = cpr.incoming_options(req)
    assert opts[:3] == ["-incoming", "tcp:127.0.0.1:4444", "-incoming"]
    assert json.loads(opts[3]) == {"channel-type": "cpr", "addr": cpr.address("unix:/run/cpr.sock")}


def test_cpr_exec_sends_the_command_split_as_a_shell_would_and_it_counts_as_an_exec():
    req = cpr.StartRequest("file:/v", "cpr-exec", exec_command="qemu -name 'a b' -incoming file:/v")
    first, migrate = cpr.steps(req, "normal")
    assert first == ("migrate-set-parameters", {
        "mode": "cpr-exec", "cpr-exec-command": ["qemu", "-name", "a b", "-incoming", "file:/v"]})
    assert migrate == ("migrate", {"uri": "file:/v"})
    assert exec_commands(first[1]) == ["qemu -name 'a b' -incoming file:/v"]


def test_back_to_normal_resets_the_mode_and_a_qemu_without_modes_gets_only_the_migrate():
    assert cpr.steps(cpr.StartRequest("tcp:h:1"), "cpr-transfer") == [
        ("migrate-set-parameters", {"mode": "normal"}), ("migrate", {"uri": "tcp:h:1"})]
    assert cpr.steps(cpr.StartRequest("tcp:h:1"), None) == [("migrate", {"uri": "tcp:h:1"})]
