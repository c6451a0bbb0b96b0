"""Untrusted text from a QMP peer, made safe to show."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MAX_LEN = 4096


def clean(text: str, max_len: int = _MAX_LEN) -> str:
    """Strip control and escape characters (tabs and newlines become spaces) and cap the length."""
    text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    text = _CONTROL.sub("", text)
    if len(text) > max_len:
        text = text[: max_len - 1] + "…"
    return text
