"""``qmigtui status``: one reply of one monitor as text; and the one-time check of the
endpoints before the app opens."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from qmigtui.cli.options import fail


def _endpoint_or_fail(text: str) -> Any:
    from qmigtui.qmp.endpoint import parse_endpoint
    ep = parse_endpoint(text)
    if (warning := ep.warning()) is not None:
        print(f"qmigtui: {warning}", file=sys.stderr)
    return ep


async def _connect(text: str, name: str, timeout: float, read_only: bool) -> Any:
    from qmigtui.qmp.sessions import session_for
    session = session_for(_endpoint_or_fail(text), name, read_only=read_only,
                          greeting_timeout=timeout)
    await session.connect()
    return session


def run_status(ns: argparse.Namespace) -> int:
    from qmigtui.qmp.errors import QmpError

    async def go() -> int:
        session = await _connect(ns.endpoint, "source", ns.timeout, read_only=True)
        try:
            command = ("query-migrate-capabilities" if ns.capabilities else
                       "query-migrate-parameters" if ns.parameters else "query-migrate")
            reply = await session.execute(command)
            types = None if ns.json else await _reply_types(session, command)
        finally:
            await session.close()
        print(format_status(command, reply, as_json=ns.json, types=types))
        return 0

    try:
        return asyncio.run(go())
    except (QmpError, ValueError) as e:
        return fail(str(e))


async def _reply_types(session: Any, command: str) -> Any:
    """The reply's types as this QEMU's own schema gives them (None: the shipped ones)."""
    from qmigtui.qmp.errors import QmpError
    from qmigtui.qmp.schema import load_schema
    root = {"query-migrate": "MigrationInfo", "query-migrate-parameters": "MigrationParameters"}
    if command not in root:
        return None
    try:
        return (await load_schema(session)).reply_types(command, root[command])
    except (QmpError, ValueError):
        return None


def format_status(command: str, reply: Any, as_json: bool = False, types: Any = None) -> str:
    """The text ``qmigtui status`` prints for a reply, typed by ``types`` (a records.Types
    from the QEMU's own schema) when given."""
    from qmigtui.model import parameters
    from qmigtui.model.describe import info_rows
    from qmigtui.model.records import SHIPPED, parse_list, parse_record
    from qmigtui.model.text import clean
    types = types or SHIPPED
    if as_json:
        return json.dumps(reply, indent=2, sort_keys=True)
    if command == "query-migrate-capabilities":
        caps = parse_list("MigrationCapabilityStatus", reply)
        rows = [(c.text("capability") or "?", "on" if c.flag("state") else "off") for c in caps]
    elif command == "query-migrate-parameters":
        params = parse_record("MigrationParameters", reply, types)
        rows = [(k, clean(parameters.format_value(k, v)))
                for k, v in (params.values | params.extra).items()]
    else:
        rows = info_rows(parse_record("MigrationInfo", reply, types)) or [("status", "none")]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


async def check_endpoints(endpoints: list[tuple[str, str]], read_only: bool) -> None:
    """Connect to each endpoint once and let go again, so a bad one fails before the app opens.

    Raises QmpError or ValueError with a one-line reason.
    """
    for name, text in endpoints:
        session = await _connect(text, name, 3.0, read_only)
        await session.close()  # in the loop that opened it
