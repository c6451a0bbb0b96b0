"""Typed command input: console lines, form fields, checks against a schema, completion."""

from __future__ import annotations

import pytest

from qmigtui.model.commands import Arg, CommandInfo, InputError, check, completions, from_text, parse_line

SET = CommandInfo("migrate-set-parameters", (Arg("downtime-limit", "int", True),
                                             Arg("tls-creds", "str or null", True)), "none")
CALC = CommandInfo("calc-dirty-rate", (Arg("calc-time", "int", False),
                                       Arg("mode", "enum(page-sampling|dirty-ring|dirty-bitmap)", True),
                                       Arg("sample-pages", "int", True)), "none")
SAVE = CommandInfo("snapshot-save", (Arg("job-id", "str", False), Arg("devices", "[str]", False)), "none")


def test_console_lines_read_as_pairs_or_json():
    assert parse_line("query-migrate") == ("query-migrate", {})
    assert parse_line("migrate uri=tcp:h:4444 resume=true") == ("migrate", {"uri": "tcp:h:4444",
                                                                           "resume": True})
    assert parse_line('migrate {"uri": "unix:/x"}') == ("migrate", {"uri": "unix:/x"})
    assert parse_line("x name='two words'") == ("x", {"name": "two words"})
    for bad in ("", "migrate {nope", "migrate [1]", "migrate uri", "migrate 'open"):
        with pytest.raises(InputError):
            parse_line(bad)


def test_check_names_unknown_missing_and_mistyped_arguments():
    assert check(SET, {"downtime-limit": 500}) == []
    assert check(SET, {"tls-creds": None}) == []
    assert check(SET, {"downtme-limit": 5}) == [
        "migrate-set-parameters has no argument 'downtme-limit'; did you mean downtime-limit?"]
    assert check(SET, {"downtime-limit": "soon"}) == ['downtime-limit: "soon" is not int']
    assert check(CALC, {}) == ["calc-time (int) is required"]
    assert check(CALC, {"calc-time": 1, "mode": "guess"})[0].startswith("mode:")
    assert check(SAVE, {"job-id": "j", "devices": ["a", 1]})[0].startswith("devices:")


def test_form_fields_become_typed_values():
    assert from_text(Arg("calc-time", "int", False), " 5 ") == 5
    assert from_text(Arg("mode", "enum(a|b)", True), "b") == "b"
    assert from_text(Arg("devices", "[str]", False), "disk0, disk1") == ["disk0", "disk1"]
    assert from_text(Arg("live", "bool", True), "true") is True
    assert from_text(Arg("tag", "str", False), "42") == "42"
    for arg, text in ((Arg("n", "int", False), "five"), (Arg("m", "enum(a|b)", True), "c"),
                      (Arg("b", "bool", True), "yes")):
        with pytest.raises(InputError):
            from_text(arg, text)


def test_completion_of_command_then_argument_names():
    names = ["migrate", "migrate-set-parameters", "query-migrate"]
    assert completions("migr", names) == ["migrate", "migrate-set-parameters"]
    assert completions("migrate-set-parameters dow", names, SET) == [
        "migrate-set-parameters downtime-limit="]
    assert completions("migrate-set-parameters downtime-limit=5 t", names, SET) == [
        "migrate-set-parameters downtime-limit=5 tls-creds="]
    assert completions("migrate-set-parameters {", names, SET) == []


def test_hmp_memory_dumps_are_reads():
    from qmigtui.model.commands import is_query
    assert is_query("human-monitor-command", {"command-line": "xp /512gx 0x1000"})
    assert is_query("human-monitor-command", {"command-line": "x /4wx 0xffff"})
    assert not is_query("human-monitor-command", {"command-line": "system_reset"})
    assert not is_query("human-monitor-command", {"command-line": "xpander"})
