"""Two QEMUs that are not the lab to the app: no relay, no rig, the app opened on their
sockets like any operator's pair, migrating over URIs the test chooses."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from qmigtui.lab.pair import Lab, LabConfig, wait_guest_ready
from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.qmp_session import QmpSession

STUCK = LabConfig(mem_mib=64, working_set_mib=32, dirty_rate_mib_s=40, relay=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def plain_pair(config: LabConfig = STUCK, capabilities: dict[str, bool] | None = None,
                     source_parameters: dict[str, Any] | None = None) -> AsyncIterator[Lab]:
    """Start the two QEMUs, wait for the guest, set capabilities (both) and parameters (source)
    over a session of our own that is closed again: the app then connects as a stranger."""
    lab = Lab(config).start()
    try:
        sessions = [QmpSession(parse_endpoint(path), name) for name, path in
                    (("source", lab.source_socket), ("destination", lab.destination_socket))]
        for s in sessions:
            await s.connect()
        try:
            await wait_guest_ready(sessions[0].execute, config.mem_mib)
            wanted = {"events": True} | (capabilities or {})
            caps = [{"capability": k, "state": v} for k, v in wanted.items()]
            for s in sessions:
                await s.execute("migrate-set-capabilities", {"capabilities": caps})
            if source_parameters:
                await sessions[0].execute("migrate-set-parameters", source_parameters)
        finally:
            for s in sessions:
                await s.close()
        yield lab
    finally:
        lab.stop()
