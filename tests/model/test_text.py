"""The one sanitizer: whatever a peer puts into any struct of migration.json comes out as
plain, bounded text, and every struct still parses."""

from __future__ import annotations

import json
import random

import pytest

from qmigtui.model.records import STRUCTS, parse_record
from qmigtui.model.text import MAX_ITEMS, clean, clean_json, clean_tree
from tests.fakeqmp import qemu_schema
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


def _as_received(value: object, ascii_only: bool = True) -> tuple[bytes, object]:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    return raw, json.loads(raw)


def _random_json(rng: random.Random, depth: int = 0) -> object:
    pick = rng.random()
    if depth > 40 or pick < 0.3:
        return rng.choice([1, -2.5, True, None, "", "plain", "tab\there", "\x1b[31mred", "é",
                           "\u202eevil", "del\x7f", "x" * rng.choice([10, 256, 257, 5000]),
                           "back\\slash", "quote\"d"])
    if pick < 0.65:
        return [_random_json(rng, depth + 1) for _ in range(rng.choice([0, 1, 3]))]
    return {rng.choice(["k", "key\x07", "k" * 300, "ok"]) + str(n): _random_json(rng, depth + 1)
            for n in range(rng.choice([0, 1, 2]))}


def test_clean_json_gives_what_clean_tree_gives_for_anything_decoded():
    rng = random.Random(7)
    values: list[object] = [_random_json(rng) for _ in range(2000)]
    deep: object = [1]
    for _ in range(40):
        deep = [deep, "s"]
    values += [deep, list(range(MAX_ITEMS + 5)), dict.fromkeys(map(str, range(MAX_ITEMS + 5)), 1),
               hostile_struct("MigrationInfo"), qemu_schema()]
    for value in values:
        for ascii_only in (True, False):
            raw, decoded = _as_received(value, ascii_only)
            assert clean_json(raw, decoded) == clean_tree(json.loads(raw))


def test_clean_json_takes_a_plain_schema_as_it_is_and_walks_anything_else():
    raw, schema = _as_received(qemu_schema())
    assert clean_json(raw, schema) is schema  # nothing to clean: not walked, not copied
    raw, evil = _as_received({"desc": "\x1b]0;title\x07x"})
    assert clean_json(raw, evil) == {"desc": "x"}
