"""A lab pair wired up: Lab + sessions + Watcher + Controller, as the app and tests use it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from qmigtui.control.ops import Controller
from qmigtui.lab.pair import Lab, LabConfig, wait_guest_ready
from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.errors import QmpError
from qmigtui.qmp.session import Session, close_all, connect_all
from qmigtui.watch.watcher import Watcher


class Rig:
    """A running lab pair under watch. ``async with Rig.start(...)`` or call ``close``."""

    def __init__(self, lab: Lab, source: Session, destination: Session, watcher: Watcher,
                 controller: Controller):
        self.lab = lab
        self.source = source
        self.destination = destination
        self.watcher = watcher
        self.controller = controller

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
        sessions = [Session(parse_endpoint(path), name, timeout=10)
                    for name, path in (("source", lab.source_socket),
                                       ("destination", lab.destination_socket))]
        src, dst = sessions
        for s in sessions:
            if prepare is not None:
                prepare(s)  # a recorder attaches here, before the first message
        try:
            await connect_all(sessions)
            await wait_guest_ready(src.execute, lab.config.mem_mib)
            caps = {"events": True} | (capabilities or {})
            params = dict(parameters or {})
            if lab.config.bandwidth:
                params.setdefault("max-bandwidth", lab.config.bandwidth)
            for s in sessions:
                await s.execute("migrate-set-capabilities", {"capabilities": [
                    {"capability": k, "state": v} for k, v in caps.items()]})
            if params:
                await src.execute("migrate-set-parameters", params)
        except BaseException:
            await close_all(sessions)
            lab.stop()
            raise
        for s in sessions:  # read-only guards what the operator does; the set-up above is ours
            s.read_only = read_only
        watcher = Watcher(sessions, interval, lab=True)
        controller = Controller(watcher)
        controller.lab_link = lab
        rig = cls(lab, src, dst, watcher, controller)
        if watch:
            await watcher.start()
        return rig

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
