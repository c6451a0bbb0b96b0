"""A lab pair wired up: Lab + sessions + Watcher + Controller, as the app and tests use it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from qmigtui.control.ops import Controller
from qmigtui.control.outcomes import ControlError
from qmigtui.control.wiring import Query, Send
from qmigtui.lab.pair import Lab, LabConfig, LabError
from qmigtui.model.actor import ACTOR, OPERATOR
from qmigtui.model.records import parse_record
from qmigtui.model.recovery import RecoveryAddresses
from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.errors import QmpError
from qmigtui.qmp.qmp_session import QmpSession
from qmigtui.qmp.session import ConnState, Session, close_all, connect_all
from qmigtui.watch.watcher import Watcher


class LabWiring:
    """The lab's link: the source sends to the relay, which forwards to the destination's
    listening port (picked by QEMU). The operator's recovery mends the link first (the
    trainer's cut, then recover); the autopilot's does not: it must wait for the link to come
    back, as it would on a real network."""

    def __init__(self, lab: Lab):
        self.lab = lab

    def owns(self, uri: str | None) -> bool:
        return uri in (None, self.lab.migrate_uri)

    async def prepare_incoming(self, send: Send, query: Query, destination_status: str,
                               extra: dict[str, Any]) -> str:
        if destination_status == "none":
            await send("destination", "migrate-incoming", {"uri": "tcp:127.0.0.1:0", **extra})
            info = parse_record("MigrationInfo", await query("destination", "query-migrate"))
            addrs = info.children("socket-address")
            if not addrs or not addrs[0].text("port"):
                raise ControlError("destination did not report its listening port")
            self.lab.set_incoming_port(int(addrs[0].text("port") or 0))
        return str(self.lab.migrate_uri)

    def recovery_addresses(self) -> RecoveryAddresses:
        return RecoveryAddresses(f"tcp:127.0.0.1:{self.lab.incoming_port}", str(self.lab.migrate_uri))

    def before_recover(self) -> None:
        if ACTOR.get() == OPERATOR:
            self.lab.restore_link()


class Rig:
    """A running lab pair under watch. ``async with Rig.start(...)`` or call ``close``."""

    def __init__(self, lab: Lab, source: Session, destination: Session, watcher: Watcher,
                 controller: Controller):
        self.lab = lab
        self.source = source
        self.destination = destination
        self.watcher = watcher
        self.controller = controller
        self.setup: tuple[dict[str, bool], dict[str, Any]] = ({}, {})

    @classmethod
    async def start(cls, config: LabConfig | None = None, interval: float = 0.5, *,
                    read_only: bool = False, watch: bool = True,
                    capabilities: dict[str, bool] | None = None,
                    parameters: dict[str, Any] | None = None,
                    prepare: Callable[[Session], None] | None = None) -> Rig:
        """Start the lab, connect both sides, wait for the guest, turn on events.

        ``capabilities`` are set on both sides, ``parameters`` on the source; ``prepare`` is
        called with each session before it connects.
        """
        lab = Lab(config).start()
        sessions: list[Session] = [QmpSession(parse_endpoint(path), name, timeout=10)
                    for name, path in (("source", lab.source_socket),
                                       ("destination", lab.destination_socket))]
        src, dst = sessions
        for s in sessions:
            if prepare is not None:
                prepare(s)  # a recorder attaches here, before the first message
        caps = {"events": True} | (capabilities or {})
        params = dict(parameters or {})
        if lab.config.bandwidth:
            params.setdefault("max-bandwidth", lab.config.bandwidth)
        try:
            await connect_all(sessions)
            await _set_up(lab, src, dst, caps, params)
        except BaseException:
            await close_all(sessions)
            lab.stop()
            raise
        for s in sessions:  # read-only guards what the operator does; the set-up above is ours
            s.hub.read_only = read_only
        watcher = Watcher(sessions, interval, lab=True)
        controller = Controller(watcher)
        controller.wiring = LabWiring(lab)
        rig = cls(lab, src, dst, watcher, controller)
        rig.setup = (caps, params)
        if watch:
            await watcher.start()
        return rig

    async def new_guest(self, working_set_mib: float, dirty_rate_mib_s: float,
                        timeout: float = 30.0, workload: str | None = None) -> None:
        """Restart both QEMUs with a guest of another working set and dirty rate (the guest
        reads them from its image, so a new one means a restart), or, for the Linux guest,
        another workload; only with no migration."""
        if self.controller.status("source") not in ("none", "completed", "failed", "cancelled"):
            raise LabError("a migration is running: cancel it before changing the guest")
        config = replace(self.lab.config, working_set_mib=working_set_mib,
                         dirty_rate_mib_s=dirty_rate_mib_s,
                         workload=workload or self.lab.config.workload)
        config.validate()
        self.lab.config = config
        self.lab.write_guest()
        await self.reset(timeout)

    async def reset(self, timeout: float = 30.0) -> None:
        """Both QEMUs afresh (whatever state they were in), set up as at the start."""
        self.lab.restore_link()
        before = (self.source.hub.connects, self.destination.hub.connects)
        for role in ("source", "destination"):
            self.lab.restart(role)
        deadline = time.monotonic() + timeout
        hubs = (self.source.hub, self.destination.hub)
        while tuple(h.connects for h in hubs) <= before or not all(
                h.state is ConnState.CONNECTED for h in hubs):
            if time.monotonic() > deadline:
                raise LabError("the restarted QEMUs did not come back in time")
            await asyncio.sleep(0.1)
        read_only = self.source.hub.read_only
        self.source.hub.read_only = self.destination.hub.read_only = False
        try:
            await _set_up(self.lab, self.source, self.destination, *self.setup)
        finally:
            self.source.hub.read_only = self.destination.hub.read_only = read_only
        self.watcher.poke(config=True)

    async def close(self) -> None:
        """Stop watching, close sessions, stop the QEMUs and the relay."""
        try:
            with contextlib.suppress(QmpError):
                await self.watcher.close()
        finally:
            self.lab.stop()

    async def __aenter__(self) -> Rig:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _set_up(lab: Lab, src: Session, dst: Session, caps: dict[str, bool],
                  params: dict[str, Any]) -> None:
    """Wait for the guest, then capabilities on both sides and parameters on the source."""
    await lab.wait_guest_ready(src.execute)
    for s in (src, dst):
        await s.execute("migrate-set-capabilities", {"capabilities": [
            {"capability": k, "state": v} for k, v in caps.items()]})
    if params:
        await src.execute("migrate-set-parameters", params)
