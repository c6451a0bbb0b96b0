"""Keys users remap: every binding that does something has an id, and ``[keys]`` in
config.toml maps ids to keys (``migrate = "M"``).  A bad entry is one line and its
default stays; the footer, ``?`` and the palette show the keys in force."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from textual.binding import Binding
from textual.keys import KEY_NAME_REPLACEMENTS

# a key as Textual names it: a character or a key's name, after any modifiers (ctrl+k, f5)
NAMES = {"space", "enter", "tab", "escape", "backspace", "delete", "insert", "home", "end",
         "pageup", "pagedown", "up", "down", "left", "right", *(f"f{n}" for n in range(1, 25))}
MODIFIERS = re.compile(r"((ctrl|shift|alt|meta|super)\+)*")


@dataclass(frozen=True)
class Scope:
    """Bindings that are live together (the app's, or a pane's with the app's)."""

    name: str
    bindings: tuple[Binding, ...]


def key_of(text: str) -> str | None:
    """Textual's name for a key as a person writes it ("M", "?", "ctrl+k", "f5"); None when
    it is not one."""
    text = text.strip()
    mods = MODIFIERS.match(text)
    prefix = mods.group(0) if mods else ""
    rest = text[len(prefix):]
    if len(rest) == 1 and rest.isprintable() and not rest.isspace():
        if rest.isalnum():
            return prefix + rest
        try:
            name = unicodedata.name(rest).lower().replace(" ", "_").replace("-", "_")
        except ValueError:
            return None
        return prefix + KEY_NAME_REPLACEMENTS.get(name, name)  # as Textual names it
    return prefix + rest if rest.lower() in NAMES else None


def _keys(binding: Binding) -> set[str]:
    return {k.strip() for k in binding.key.split(",")}


def resolve(requested: Mapping[str, Any], scopes: Sequence[Scope]) -> tuple[dict[str, str], list[str]]:
    """The keymap to apply (binding id -> key) and one line for each entry left out."""
    ids = {b.id: b for scope in scopes for b in scope.bindings if b.id}
    problems: list[str] = []
    chosen: dict[str, str] = {}
    for action, wanted in requested.items():
        if action not in ids:
            problems.append(f"[keys] {action}: no such action (ignored); the actions are "
                            f"{', '.join(sorted(ids))}")
            continue
        key = key_of(wanted) if isinstance(wanted, str) else None
        if key is None:
            problems.append(f"[keys] {action} = {wanted!r}: not a key (ignored; write \"M\", "
                            f"\"ctrl+k\" or \"f5\")")
            continue
        clash = _clash(action, key, chosen, scopes)
        if clash is not None:
            problems.append(f"[keys] {action} = {wanted!r}: already the key of {clash} (ignored: "
                            f"{action} keeps {ids[action].key})")
            continue
        chosen[action] = key
    return chosen, problems


def _clash(action: str, key: str, chosen: Mapping[str, str], scopes: Iterable[Scope]) -> str | None:
    """The id of another binding live together with ``action`` that has ``key`` already."""
    for scope in scopes:
        if not any(b.id == action for b in scope.bindings):
            continue
        for b in scope.bindings:
            if b.id == action:
                continue
            now = {chosen[b.id]} if b.id is not None and b.id in chosen else _keys(b)
            if key in now:
                return b.id or b.action
    return None


def key_scopes(app_bindings: Iterable[Any]) -> list[Scope]:
    """The app's keys, and each pane's and the fleet view's together with the app's."""
    from qmigtui.ui.fleet_screen import FleetScreen
    from qmigtui.ui.fleet_table import FleetTable
    from qmigtui.ui.panes import PANES

    app = tuple(b for b in app_bindings if isinstance(b, Binding))
    scopes = [Scope("app", app)]
    widgets: list[type] = [*PANES, FleetTable]
    for widget in widgets:
        own = tuple(b for b in getattr(widget, "BINDINGS", ()) if isinstance(b, Binding))
        scopes.append(Scope(widget.__name__, own + app))
    fleet = tuple(b for b in FleetScreen.BINDINGS if isinstance(b, Binding))
    scopes.append(Scope("FleetScreen", fleet + tuple(
        b for b in FleetTable.BINDINGS if isinstance(b, Binding))))
    return scopes
