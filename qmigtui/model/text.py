"""Untrusted text from a QMP peer or a recording, made safe to show: the one sanitizer.

Control characters (C0, C1, DEL: escape sequences, OSC title and clipboard writes start
with one), bidirectional overrides and isolates, zero-width and line-separator characters
are removed; length is capped.  ``clean_tree`` does the same to every string (keys too) of
a JSON value and bounds its size, so nothing a peer sends reaches the terminal, a file or a
parser above the session unbounded or raw.
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
