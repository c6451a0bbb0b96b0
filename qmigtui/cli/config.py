"""The user's configuration: named connections and defaults, from a TOML file.

``~/.config/qmigtui/config.toml`` (or ``--config FILE``)::

    interval = 1.0            # seconds between polls
    theme = "qmigtui-dark"
    audit_log = "~/qmigtui-audit.log"

    [keys]                    # any action by its id (? lists them): the new key
    migrate = "M"

    [connections.web-1]
    source = "unix:/run/qemu/web-1.qmp"
    destination = "tcp:10.0.0.12:4444"
    read_only = true

``qmigtui web-1`` then opens that pair. Unknown keys are warned about, never fatal.
"""

from __future__ import annotations

import tomllib
from argparse import ArgumentTypeError
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_config_path

from qmigtui.cli.options import INTERVAL
from qmigtui.desk.fleet import Source

MAX_BYTES = 1 << 20  # a configuration file is a few lines: more is a mistake
RANGES = {"interval": INTERVAL}  # checked as the command line checks them
TOP = {"interval": float, "theme": str, "audit_log": str, "connections": dict, "keys": dict}
CONNECTION = {"source": str, "destination": str, "read_only": bool, "interval": float}


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    interval: float | None = None
    theme: str | None = None
    audit_log: str | None = None
    connections: dict[str, Source] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    keys: dict[str, Any] = field(default_factory=dict)  # binding id -> key (checked by the app)


def default_path() -> Path:
    return user_config_path("qmigtui") / "config.toml"


def load(path: Path | None = None) -> Config:
    """The configuration (empty when the default file does not exist).

    Raises ValueError with one line for a file given explicitly that is missing, or for
    any file that is not TOML or has a value of the wrong type.
    """
    explicit = path is not None
    path = path or default_path()
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)  # bounded: a huge file is not read whole
    except FileNotFoundError:
        if explicit:
            raise ValueError(f"{path}: no such file") from None
        return Config()
    except OSError as e:
        raise ValueError(f"{path}: {e.strerror or e}") from None
    if len(raw) > MAX_BYTES:
        raise ValueError(f"{path}: larger than {MAX_BYTES // 1024} KiB: not a configuration file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not text (UTF-8): not a configuration file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not TOML ({e})") from None
    warnings = [f"{path}: unknown key {k!r} (ignored)" for k in data if k not in TOP]
    _types(path, "", data, TOP)
    connections = {}
    for name, entry in (data.get("connections") or {}).items():
        where = f"connections.{name}"
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: {where} must be a table")
        warnings += [f"{path}: unknown key {where}.{k} (ignored)" for k in entry if k not in CONNECTION]
        _types(path, where + ".", entry, CONNECTION)
        if "source" not in entry:
            raise ValueError(f"{path}: {where} has no source")
        connections[name] = Source(name, entry["source"], entry.get("destination"),
                                       bool(entry.get("read_only", False)), entry.get("interval"))
    audit = data.get("audit_log")
    return Config(path, data.get("interval"), data.get("theme"),
                  str(Path(audit).expanduser()) if audit else None, connections, tuple(warnings),
                  dict(data.get("keys") or {}))


def keys_or_warning(path: Path | None = None) -> tuple[dict[str, Any], list[str]]:
    """``[keys]`` of the configuration, for front ends that read nothing else of it; a file
    that cannot be read is a warning, and no key is remapped."""
    try:
        cfg = load(path)
    except ValueError as e:
        return {}, [str(e)]
    return cfg.keys, list(cfg.warnings)


def _types(path: Path, prefix: str, data: dict[str, Any], types: dict[str, type]) -> None:
    for key, kind in types.items():
        if key in data:
            value = data[key]
            ok = isinstance(value, kind) or (kind is float and isinstance(value, int)
                                             and not isinstance(value, bool))
            if not ok:
                raise ValueError(f"{path}: {prefix}{key} = {value!r} is not {kind.__name__}")
            if key in RANGES:  # the very rule the command line applies
                try:
                    RANGES[key](repr(float(value)))
                except ArgumentTypeError as e:
                    raise ValueError(f"{path}: {prefix}{key} = {value!r}: {e}") from None
