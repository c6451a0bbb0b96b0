"""Secrets out of what qmigtui writes down: a command's arguments as the audit log and the
recording keep them.

A secret object's data (``object-add`` with qom-type secret, or HMP ``object_add secret,…``),
password-like arguments and the password in a URI's user part become ``***``; everything
else is kept as sent.
"""

from __future__ import annotations

import re
from typing import Any

HIDDEN = "***"
SECRET_KEYS = frozenset({"data", "password", "passwd", "passphrase", "secret", "key"})
PASSWORD_KEYS = frozenset({"password", "passwd", "passphrase"})
_URI_PASSWORD = re.compile(r"(\w[\w+.-]*://[^:/@\s]*:)[^@/\s]+@")
_HMP_SECRET = re.compile(r"\b((?:data|password|passwd|passphrase)=)(?:[^,\s]|,,)+")


def redact_text(text: str) -> str:
    """A password in a URI (``scheme://user:PASSWORD@host``) hidden."""
    return _URI_PASSWORD.sub(lambda m: m.group(1) + HIDDEN + "@", text)


def redact_args(command: str, args: Any) -> Any:
    """``args`` of ``command`` with every secret hidden (a new value; ``args`` is not changed)."""
    if command == "human-monitor-command" and isinstance(args, dict):
        line = args.get("command-line")
        if isinstance(line, str):
            hidden = _HMP_SECRET.sub(lambda m: m.group(1) + HIDDEN, line) if "secret" in line or \
                any(f"{k}=" in line for k in PASSWORD_KEYS) else line
            return args | {"command-line": redact_text(hidden)}
    secret_object = command == "object-add" and isinstance(args, dict) and \
        str(args.get("qom-type", "")).startswith("secret")
    return _walk(args, secret_object)


def _walk(value: Any, secret_object: bool) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [_walk(v, secret_object) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            hide = k in PASSWORD_KEYS or (secret_object and k in SECRET_KEYS)
            out[k] = HIDDEN if hide and v is not None else _walk(v, secret_object)
        return out
    return value


def redact_message(msg: dict[str, Any]) -> dict[str, Any]:
    """A QMP command message (``execute``, ``arguments``) with its secrets hidden."""
    if "arguments" not in msg:
        return msg
    return msg | {"arguments": redact_args(str(msg.get("execute", "")), msg["arguments"])}
