"""Styles named by theme role (``bold $error``), made into styles Rich can draw in the current
theme: hex colours, and the terminal's own palette for the ansi themes."""

from __future__ import annotations

from collections.abc import Mapping

from textual.color import Color, ColorParseError

ROLES = ("primary", "secondary", "accent", "success", "warning", "error")


def _rich_colour(value: str | None) -> str:
    if not value:
        return "default"
    try:
        return Color.parse(value).rich_color.name
    except ColorParseError:
        return "default"


def themed(style: str, variables: Mapping[str, str]) -> str:
    """``bold $error`` -> ``bold #ff5f5f`` (or ``bold color(1)`` in an ansi theme)."""
    for role in ROLES:
        if f"${role}" in style:
            style = style.replace(f"${role}", _rich_colour(variables.get(role)))
    return style
