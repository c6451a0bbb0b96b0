"""An in-process fake QMP peer (a test double, not QEMU) for error paths a real QEMU won't produce."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qmigtui.record.format import Reader

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "converge.jsonl.gz"
GREETING = {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 22}, "package": ""},
                    "capabilities": []}}


class FakeQmp:
    """A Unix-socket server speaking just enough QMP; ``script`` decides each reply.

    ``script(command, args)`` returns a reply dict, raw bytes to send, None (no reply), or
    ``(bytes, reply)``: the bytes (an event, say) written just before the reply.
    """

    def __init__(self, path: str, script: Callable[[str, dict[str, Any]], Any] | None = None,
                 greeting: bytes | Callable[[int], bytes] | None = None,
                 handshake: Callable[[int], Any] | None = None):
        self.path = path
        self.handshake = handshake or (lambda n: {"return": {}})  # n: handshakes so far
        # greeting: bytes, or bytes for the n-th connection
        self.script = script or (lambda cmd, args: {"return": {}})
        self.greeting = greeting if greeting is not None else json.dumps(GREETING).encode() + b"\r\n"
        self.received: list[str] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> FakeQmp:
        self.server = await asyncio.start_unix_server(self._serve, self.path)
        return self

    async def stop(self) -> None:
        for w in self.writers:
            w.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def send(self, data: bytes) -> None:
        """Push bytes to every client (events, garbage)."""
        for w in self.writers:
            w.write(data)
            await w.drain()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        greeting = self.greeting(len(self.writers) - 1) if callable(self.greeting) else self.greeting
        if greeting:
            writer.write(greeting)
            await writer.drain()
        decoder, buf = json.JSONDecoder(), ""
        try:
            while chunk := await reader.read(65536):
                buf += chunk.decode(errors="replace")
                msgs = []
                while buf.strip():
                    try:
                        msg, end = decoder.raw_decode(buf.lstrip())
                    except json.JSONDecodeError:
                        break  # incomplete: wait for more (qemu.qmp sends no newline)
                    buf = buf.lstrip()[end:]
                    msgs.append(msg)
                for msg in msgs:
                    await self._answer(writer, msg)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, msg: dict[str, Any]) -> None:
        cmd = msg.get("execute", "")
        self.received.append(cmd)
        if cmd == "qmp_capabilities":
            reply = self.handshake(self.received.count(cmd) - 1)
        else:
            reply = self.script(cmd, msg.get("arguments", {}))
        if reply is None:
            return
        if isinstance(reply, tuple):
            before, reply = reply
            writer.write(before)
        if isinstance(reply, bytes):
            writer.write(reply)
        else:
            writer.write(json.dumps(reply | {"id": msg.get("id")}).encode() + b"\r\n")
        await writer.drain()


@functools.cache
def qemu_schema() -> list[Any]:
    """QEMU 7.2's own query-qmp-schema answer, from a bundled recording."""
    ids = set()
    for e in Reader(EXAMPLE).entries():
        if e.kind == "command" and e.msg.get("execute") == "query-qmp-schema":
            ids.add(e.msg.get("id"))
        elif e.kind == "response" and e.msg.get("id") in ids:
            return list(e.msg["return"])
    raise AssertionError("no schema in the example")


def watcher_reply(cmd: str) -> dict[str, Any] | None:
    """What the fake answers to what a watcher asks on connecting (None for anything else):
    QEMU 7.2's schema, events on, a downtime limit."""
    if cmd == "query-qmp-schema":
        return {"return": qemu_schema()}
    if cmd == "query-migrate-capabilities":
        return {"return": [{"capability": "events", "state": True}]}
    if cmd == "query-migrate-parameters":
        return {"return": {"downtime-limit": 300}}
    return None
