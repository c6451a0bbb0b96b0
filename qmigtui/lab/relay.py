"""The lab link: a TCP relay the migration stream goes through, so a network failure is real.

Runs as its own process (``python -m qmigtui.lab.relay CONTROL_SOCKET``), prints
``PORT <n>`` once it listens, and takes one-line commands on a Unix control
socket: ``target HOST PORT``, ``cut``, ``restore``, ``status``.
A cut resets every relayed connection and stops listening until restored, so a connection
tried meanwhile is refused by the kernel, as by a host whose network is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import sys

CHUNK = 1 << 18


class Relay:
    """Forwards each accepted connection to the target, unless the link is cut."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.target: tuple[str, int] | None = None
        self.cut = False
        self.links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self.relayed = 0
        self.address = (host, port)
        self.server: asyncio.Server | None = None

    async def listen(self) -> int:
        """Listen on the relay's address (the same port again after a cut); return the port."""
        self.server = await asyncio.start_server(self.handle, *self.address, reuse_address=True)
        self.address = self.address[0], self.server.sockets[0].getsockname()[1]
        return self.address[1]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut or self.target is None:
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        link = (writer, up_writer)
        self.links.add(link)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self.links.discard(link)
            for w in link:
                w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK):
                self.relayed += len(data)
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, RuntimeError):
            _reset(writer)

    def do_cut(self) -> None:
        self.cut = True
        if self.server is not None:
            self.server.close()
            self.server = None
        for a, b in list(self.links):
            _reset(a)
            _reset(b)

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode(errors="replace").split()
        reply = "ok"
        if line[:1] == ["target"] and len(line) == 3:
            self.target = (line[1], int(line[2]))
        elif line == ["cut"]:
            self.do_cut()
        elif line == ["restore"]:
            self.cut = False
            if self.server is None:
                await self.listen()
        elif line == ["status"]:
            reply = f"{'cut' if self.cut else 'up'} links={len(self.links)} bytes={self.relayed}"
        else:
            reply = "error: unknown command"
        writer.write(reply.encode() + b"\n")
        await writer.drain()
        writer.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset, as a failed link would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def serve(control_path: str, host: str = "127.0.0.1", port: int = 0) -> None:
    relay = Relay(host, port)
    port = await relay.listen()
    control = await asyncio.start_unix_server(relay.control, control_path)
    print(f"PORT {port}", flush=True)
    async with control:
        await control.serve_forever()


if __name__ == "__main__":
    if os.environ.get("QMIGTUI_RELAY_PARENT") and os.getppid() != int(os.environ["QMIGTUI_RELAY_PARENT"]):
        sys.exit(1)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(sys.argv[1]))
