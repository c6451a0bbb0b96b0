"""Untrusted text from a QMP peer or a recording, made safe to show: the one sanitizer.

Control characters (C0, C1, DEL: escape sequences, OSC title and clipboard writes start
with one), bidirectional overrides and isolates, zero-width and line-separator characters
are removed; length is capped.  ``clean_tree`` does the same to every string (keys too) of
a JSON value and bounds its size, so nothing a peer sends reaches the terminal, a file or a
parser above the session unbounded or raw; ``clean_json`` gives the same result for a value
just decoded from JSON text, without the walk when the text shows there is nothing to clean.
"""

from __future__ import annotations

import re
from typing import Any

# whole escape sequences first (their printable tails, such as an OSC title, go with them)
_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]"            # CSI
                       r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS, SOS, PM, APC
                       r"|\x1b[ -/]*[0-~]"                       # other escapes
                       r"|\x9b[0-?]*[ -/]*[@-~]"                  # 8-bit CSI
                       r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?")  # 8-bit strings
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                      "\u2060-\u2069\ufeff\ufff9-\ufffb]")
_MAX_LEN = 4096
MAX_ITEMS = 20_000  # entries of one list or object kept (query-qmp-schema has a few thousand)
MAX_DEPTH = 32
_KEY_LEN = 256
_LONG_STRING = re.compile(rb'"[^"]{%d,}"' % (_KEY_LEN + 1))  # may also match between two strings


def clean(text: str, max_len: int = _MAX_LEN) -> str:
    """Strip escape sequences whole, then control, bidi and zero-width characters (tabs and
    newlines become spaces), and cap the length."""
    if len(text) <= max_len and text.isascii() and text.isprintable():
        return text  # nothing to strip: most of what QEMU sends (names, types, numbers as text)
    if len(text) > 4 * max_len:
        text = text[: 4 * max_len]  # a megabyte is not scanned to show a few thousand characters
    text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    text = _SEQUENCE.sub("", text)
    text = _CONTROL.sub("", text)
    if len(text) > max_len:
        text = text[: max_len - 1] + "…"
    return text


def clean_tree(value: Any, depth: int = 0) -> Any:
    """Every string of a JSON value cleaned, lists and objects cut to MAX_ITEMS entries and
    MAX_DEPTH levels (deeper levels become None)."""
    if isinstance(value, str):
        return clean(value)
    if depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        out = {}
        for n, (k, v) in enumerate(value.items()):
            if n >= MAX_ITEMS:
                break
            out[clean(str(k), 256)] = clean_tree(v, depth + 1)
        return out
    if isinstance(value, list):
        return [clean_tree(v, depth + 1) for v in value[:MAX_ITEMS]]
    return value


def clean_json(raw: bytes, value: Any) -> Any:
    """``clean_tree(value)`` for ``value`` decoded by ``json.loads`` (strict: no raw control
    character inside a string) from ``raw``: the decoded value itself when the text is plain
    ASCII with no escape and no DEL (every string is then printable as it is), no string is
    longer than a key may be, and the containers are within bounds. A schema of half a
    megabyte is checked in a few milliseconds where the walk takes tens."""
    if (raw.isascii() and b"\\" not in raw and b"\x7f" not in raw
            and _LONG_STRING.search(raw) is None and _within_bounds(value, 0)):
        return value
    return clean_tree(value)


def _within_bounds(value: Any, depth: int) -> bool:
    """No container deeper than clean_tree keeps its members, none with more than MAX_ITEMS."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return True
    if depth >= MAX_DEPTH - 1 or len(value) > MAX_ITEMS:
        return False
    for member in value.values() if kind is dict else value:
        kind = type(member)
        if (kind is dict or kind is list) and not _within_bounds(member, depth + 1):
            return False
    return True
