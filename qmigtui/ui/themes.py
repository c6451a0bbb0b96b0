"""Themes as TOML files: the bundled ones in themes/, and the user's in their config directory.

A file names a theme and gives Textual's theme colours::

    name = "my-theme"
    dark = true
    primary = "#5fafff"      # also: secondary accent warning error success
    background = "#121212"   # foreground surface panel boost

A file that cannot be read is reported in one line and skipped; the app then
uses its default theme.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from platformdirs import user_config_path, user_state_path
from textual.color import Color, ColorParseError
from textual.theme import Theme

from qmigtui import DATA

BUNDLED = DATA / "themes"
DEFAULT = "qmigtui-dark"
COLOURS = ("primary", "secondary", "accent", "warning", "error", "success", "foreground",
           "background", "surface", "panel", "boost")


def user_themes() -> Path:
    return user_config_path("qmigtui") / "themes"


def load_theme(path: Path) -> Theme:
    """One theme file; ValueError with one line naming the file when it is not one."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: {getattr(e, 'strerror', None) or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not TOML ({e})") from None
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name:
        raise ValueError(f"{path}: 'name' must be text")
    if "primary" not in data:
        raise ValueError(f"{path}: 'primary' is required")
    unknown = set(data) - {"name", "dark", *COLOURS}
    if unknown:
        raise ValueError(f"{path}: unknown key {sorted(unknown)[0]!r} (colours: {', '.join(COLOURS)})")
    colours = {}
    for key in COLOURS:
        if key in data:
            try:
                Color.parse(str(data[key]))
            except ColorParseError:
                raise ValueError(f"{path}: {key} = {data[key]!r} is not a colour") from None
            colours[key] = str(data[key])
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ValueError(f"{path}: 'dark' must be true or false")
    return Theme(name=name, dark=dark, **colours)  # type: ignore[arg-type]


def discover(dirs: tuple[Path, ...] | None = None) -> tuple[list[Theme], list[str]]:
    """Every theme file in the bundled and the user's directories: (themes, problems)."""
    themes: list[Theme] = []
    problems: list[str] = []
    found: dict[str, Path] = {}
    for directory in dirs if dirs is not None else (BUNDLED, user_themes()):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme(path)
            except ValueError as e:
                problems.append(str(e))
                continue
            if theme.name in found:  # the later one (the user's) is used: said, not silent
                problems.append(f"{path}: theme {theme.name!r} replaces the one in {found[theme.name]}")
            found[theme.name] = path
            themes.append(theme)
    return themes, problems


def remembered() -> str | None:
    path = user_state_path("qmigtui") / "theme"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def remember(name: str) -> None:
    path = user_state_path("qmigtui") / "theme"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name + "\n")
    except OSError:
        pass  # a read-only home keeps the app working, just forgetful
