"""Commands as a QEMU describes them, and what a person types for one, checked before sending.

Types are the readable names the schema module resolves: ``int``, ``number``,
``str``, ``bool``, ``null``, ``any``, ``enum(a|b)``, ``[T]``, ``object`` and
``A or B``.  A console line is ``command`` then either one JSON object or
``name=value`` pairs (a value is read as JSON when it parses, else as text).
"""

from __future__ import annotations

import difflib
import json
import shlex
from dataclasses import dataclass
from typing import Any

# Commands that end or undo something: the app asks first and shows the exact command.
DANGEROUS = frozenset({
    "migrate_cancel", "x-colo-lost-heartbeat", "snapshot-load", "snapshot-delete",
    "xen-load-devices-state", "xen-set-replication", "xen-colo-do-checkpoint",
    "xen-set-global-dirty-log", "migrate-pause", "migrate-start-postcopy", "cancel-vcpu-dirty-limit",
    "quit", "system_reset", "stop"})
JOB_COMMANDS = ("snapshot-save", "snapshot-load", "snapshot-delete")


# HMP 'info' commands that only read (read-only mode lets these through human-monitor-command)
READ_ONLY_INFO = frozenset({
    "migrate", "migrate_capabilities", "migrate_parameters", "status", "version", "kvm", "name",
    "uuid", "cpus", "mtree", "block", "blockstats", "jobs", "dirty_rate", "vcpu_dirty_limit",
    "snapshots", "memory_size_summary", "numa", "registers", "mem", "tlb", "chardev", "network",
    "qtree", "pci", "usb", "balloon", "iothreads", "hotpluggable-cpus", "colo", "replay"})


def is_query(command: str, arguments: dict[str, Any] | None = None) -> bool:
    """Commands read-only mode lets through: queries, the capabilities handshake, HMP 'info'
    commands known to only read, and HMP memory dumps (``x``, ``xp``: they read, and the
    zero-page sample is made of them)."""
    if command == "human-monitor-command":
        words = str((arguments or {}).get("command-line", "")).split()
        if words and words[0].split("/")[0] in ("x", "xp"):
            return True
        return len(words) >= 2 and words[0] == "info" and words[1] in READ_ONLY_INFO
    return command.startswith(("query-", "x-query-")) or command == "qmp_capabilities"


def exec_commands(value: Any) -> list[str]:
    """The shell commands an argument tree makes QEMU run: ``exec:`` URIs anywhere, and exec
    channels (``{"transport": "exec", "args": [...]}``) and ``cpr-exec-command``."""
    found: list[str] = []
    if isinstance(value, str) and value.startswith("exec:"):
        found.append(value[5:])
    elif isinstance(value, dict):
        if value.get("transport") == "exec" and isinstance(value.get("args"), list):
            found.append(" ".join(str(a) for a in value["args"]))
        if isinstance(value.get("cpr-exec-command"), list):  # what cpr-exec makes QEMU exec
            found.append(shlex.join(str(a) for a in value["cpr-exec-command"]))
        for v in value.values():
            found += exec_commands(v)
    elif isinstance(value, list):
        for v in value:
            found += exec_commands(v)
    return found


@dataclass(frozen=True)
class Arg:
    """One argument (or member) as introspection describes it."""

    name: str
    type: str  # int, str, bool, number, null, any, enum(a|b), [T], object, "A or B"
    optional: bool
    features: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommandInfo:
    """A command: its arguments, return type and features."""

    name: str
    args: tuple[Arg, ...]
    returns: str
    features: tuple[str, ...] = ()
    allow_oob: bool = False


class InputError(ValueError):
    """What was typed cannot be sent; ``str()`` is one line."""


def parse_line(text: str) -> tuple[str, dict[str, Any]]:
    """``migrate uri=tcp:h:4444 resume=true`` or ``migrate {"uri": "..."}`` -> (name, args)."""
    text = text.strip()
    if not text:
        raise InputError("type a command name")
    name, _, rest = text.partition(" ")
    rest = rest.strip()
    if not rest:
        return name, {}
    if rest.startswith("{"):
        try:
            args = json.loads(rest)
        except json.JSONDecodeError as e:
            raise InputError(f"arguments are not JSON: {e.msg} at column {e.colno}") from None
        if not isinstance(args, dict):
            raise InputError("arguments must be one JSON object")
        return name, args
    try:
        words = shlex.split(rest)
    except ValueError as e:
        raise InputError(f"cannot read the arguments: {e}") from None
    args = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise InputError(f"{word!r}: write name=value, or give one JSON object")
        args[key] = _literal(value)
    return name, args


def _literal(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def type_ok(kind: str, value: Any) -> bool:
    """Whether ``value`` fits a readable schema type."""
    if " or " in kind:
        return any(type_ok(k, value) for k in kind.split(" or "))
    if kind == "any":
        return True
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool" or kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if kind.startswith("enum("):
        return isinstance(value, str) and value in kind[5:-1].split("|")
    if kind.startswith("[") and kind.endswith("]"):
        return isinstance(value, list) and all(type_ok(kind[1:-1], v) for v in value)
    if kind == "object":
        return isinstance(value, dict)
    return True  # a type this module cannot read: QEMU will judge


def check(info: CommandInfo, args: dict[str, Any]) -> list[str]:
    """Problems with ``args`` for ``info``, one line each (empty: fine to send)."""
    known = {a.name: a for a in info.args}
    problems = []
    for key, value in args.items():
        arg = known.get(key)
        if arg is None:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else (
                f"; it takes {', '.join(known)}" if known else "; it takes no arguments")
            problems.append(f"{info.name} has no argument {key!r}{hint}")
        elif not type_ok(arg.type, value):
            problems.append(f"{key}: {json.dumps(value)[:60]} is not {arg.type}")
    for arg in info.args:
        if not arg.optional and arg.name not in args:
            problems.append(f"{arg.name} ({arg.type}) is required")
    return problems


def from_text(arg: Arg, text: str) -> Any:
    """A form field's text as the argument's type; raise InputError when it cannot be."""
    text = text.strip()
    kind = arg.type
    if kind == "str" or (kind.startswith("enum(") and not text.startswith('"')):
        value: Any = text
    elif kind == "[str]" and not text.startswith("["):
        value = [w for w in (p.strip() for p in text.split(",")) if w]
    else:
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            if kind in ("int", "number", "bool", "object") or kind.startswith("["):
                raise InputError(f"{arg.name}: {text!r} is not {kind}") from None
            value = text
    if not type_ok(kind, value):
        raise InputError(f"{arg.name}: {text!r} is not {kind}")
    return value


def completions(prefix: str, names: list[str], info: CommandInfo | None = None) -> list[str]:
    """Whole lines that complete what is typed: a command name, then an argument name."""
    name, space, rest = prefix.partition(" ")
    if not space:
        return sorted(n for n in names if n.startswith(name))
    if info is None or rest.lstrip().startswith("{"):
        return []
    done, _, last = rest.rpartition(" ")
    used = {w.partition("=")[0] for w in done.split()}
    if "=" in last:
        return []
    head = f"{name} {done + ' ' if done else ''}"
    return [f"{head}{a.name}=" for a in info.args if a.name.startswith(last) and a.name not in used]
