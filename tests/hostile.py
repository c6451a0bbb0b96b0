"""A hostile QMP peer (an in-process fake, named so): every string field of every struct and
event of migration.json carries escape sequences, OSC title and clipboard writes, a bidi
override, Rich markup and a megabyte of text.

Run as ``python -m tests.hostile SOCKET...`` it serves those sockets until killed, so a real
app in a real terminal (a pty) can be pointed at it and its bytes checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from typing import Any

from qmigtui.model import qapi_extra, qapi_spec
from tests.fakeqmp import FakeQmp, qemu_schema

HEAD = ("\x1b]0;pwned-title\x07\x1b]52;c;cHduZWQ=\x07\u202eevil\u202c[/x][@click=app.quit]quit[/]"
        "\x1b[2J\x9b31m")
# a megabyte a string, or (HOSTILE_SIZE) less, so that whole messages fit QMP's read buffer
EVIL = HEAD + "A" * int(os.environ.get("HOSTILE_SIZE", 1_000_000))
STRUCTS = {**qapi_spec.STRUCTS, **qapi_extra.STRUCTS}
UNIONS = {**qapi_spec.UNIONS, **qapi_extra.UNIONS}


def hostile(qtype: Any, depth: int = 0) -> Any:
    """A value of ``qtype`` whose every string (enums included) is EVIL."""
    if isinstance(qtype, list):
        return [hostile(qtype[0], depth + 1)]
    if qtype in STRUCTS or qtype in UNIONS:
        return hostile_struct(qtype, depth + 1) if depth < 6 else {}
    if qtype in ("int", "int64", "uint8", "uint16", "uint32", "uint64", "size"):
        return 1
    if qtype == "number":
        return 1.5
    if qtype == "bool":
        return True
    if qtype == "any":
        return {EVIL[:64]: EVIL}
    return EVIL  # str, StrOrNull, every enum


def hostile_struct(name: str, depth: int = 0) -> dict[str, Any]:
    if name in UNIONS:
        spec = UNIONS[name]
        branch = next(iter(spec["data"]))
        out = {k.lstrip("*"): hostile(v if not isinstance(v, dict) else v["type"], depth)
               for k, v in spec["base"].items()}
        out[spec["discriminator"]] = branch  # a valid branch, so its members are read too
        return out | hostile_struct(spec["data"][branch], depth)
    data = STRUCTS[name]["data"]
    out = {k.lstrip("*"): hostile(v if not isinstance(v, dict) else v["type"], depth)
           for k, v in data.items()}
    return out | {"future-" + EVIL[:32]: EVIL}  # a member a newer QEMU might add


def hostile_events() -> list[dict[str, Any]]:
    """Every event of migration.json, and one no QEMU sends, with hostile data."""
    events = []
    for name, spec in qapi_spec.EVENTS.items():
        data = {k.lstrip("*"): hostile(v if not isinstance(v, dict) else v["type"])
                for k, v in spec.get("data", {}).items()}
        events.append({"event": name, "data": data, "timestamp": {"seconds": 1, "microseconds": 0}})
    events.append({"event": EVIL[:200], "data": {"why": EVIL},
                   "timestamp": {"seconds": 1, "microseconds": 0}})
    return events


RETURNS = {"query-migrate": "MigrationInfo", "query-migrate-parameters": "MigrationParameters",
           "query-dirty-rate": "DirtyRateInfo", "query-colo-status": "COLOStatus",
           "query-xen-replication-status": "ReplicationStatus"}


def reply(cmd: str, args: dict[str, Any]) -> Any:
    """What the hostile peer answers: QEMU 7.2's schema (so forms still work), hostile data
    for every migration query, and QEMU's error shape with a hostile desc for the rest."""
    if cmd == "query-qmp-schema":
        return {"return": qemu_schema()}
    if cmd in RETURNS:
        return {"return": hostile_struct(RETURNS[cmd])}
    if cmd == "query-migrate-capabilities":
        return {"return": [hostile_struct("MigrationCapabilityStatus"),
                           {"capability": "events", "state": True}]}
    if cmd in ("query-migrationthreads", "query-vcpu-dirty-limit"):
        struct = "MigrationThreadInfo" if cmd == "query-migrationthreads" else "DirtyLimitInfo"
        return {"return": [hostile_struct(struct)]}
    if cmd.startswith("query-"):
        return {"return": {}}
    return {"error": {"class": "GenericError", "desc": EVIL}}


GREETING = {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 22}, "package": EVIL},
                    "capabilities": []}}


async def serve(paths: list[str]) -> None:
    fakes = [await FakeQmp(p, reply, json.dumps(GREETING).encode() + b"\r\n").start() for p in paths]
    events = b"".join(json.dumps(e).encode() + b"\r\n" for e in hostile_events())
    print("READY", flush=True)
    while True:
        await asyncio.sleep(0.5)
        for fake in fakes:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await fake.send(events)


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1:]))
