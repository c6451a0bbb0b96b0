"""The one sanitizer: whatever a peer puts into any struct of migration.json comes out as
plain, bounded text, and every struct still parses."""

from __future__ import annotations

import pytest

from qmigtui.model.records import STRUCTS, parse_record
from qmigtui.model.text import clean, clean_tree
from tests.hostile import EVIL, hostile_struct


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_every_string_of_every_struct_comes_out_clean_and_bounded(name):
    cleaned = clean_tree(hostile_struct(name))
    record = parse_record(name, cleaned)
    for text in strings(cleaned) + strings(record.to_json()):
        assert not any(c in text for c in "\x1b\x07\x9b\u202e\u202c"), (name, text[:80])
        assert "pwned-title" not in text and "cHduZWQ=" not in text
        assert len(text) <= 4096


def test_escape_sequences_go_whole_and_markup_stays_text():
    assert clean("a\x1b[31mred\x1b[0m b\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ c\x07d") == "ared blink cd"
    assert clean(EVIL, 60).startswith("evil[/x][@click=app.quit]quit[/]AAA")
    assert clean("\u2066isolate\u2069 \u200bzero\ufeff") == "isolate zero"
