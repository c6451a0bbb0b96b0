"""Opening what the app watches: endpoints given by the operator, or a lab pair."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qmigtui.control.ops import Controller
from qmigtui.control.rig import Rig
from qmigtui.lab.pair import LabConfig
from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.errors import QmpError
from qmigtui.qmp.session import Session, connect_all
from qmigtui.watch.watcher import Watcher


@dataclass
class Backend:
    """What the app drives: a watcher and its controller, plus how to let them go."""

    watcher: Watcher
    controller: Controller
    rig: Rig | None = None
    lab_tools: dict[str, Callable[[], object]] = field(default_factory=dict)

    def lab_note(self, side: str) -> str:
        """The last thing a lab QEMU said on stderr (QEMU 7.2 gives pause reasons only there)."""
        if self.rig is None:
            return ""
        lines = [ln for ln in self.rig.lab.log(side).splitlines() if ln.strip()]
        return lines[-1] if lines else ""

    async def close(self) -> None:
        if self.rig is not None:
            await self.rig.close()
        else:
            with contextlib.suppress(QmpError):
                await self.watcher.close()


async def open_endpoints(endpoints: list[tuple[str, str]], interval: float,
                         read_only: bool) -> Backend:
    """Connect to the given endpoints (name, text) and start watching them."""
    sessions = await connect_all([Session(parse_endpoint(text), name, read_only=read_only)
                                  for name, text in endpoints])
    watcher = Watcher(sessions, interval)
    await watcher.start()
    return Backend(watcher, Controller(watcher))


async def open_lab(config: LabConfig, interval: float, read_only: bool = False,
                   **rig_options: Any) -> Backend:
    """Start a lab pair and watch it (``rig_options``: capabilities, parameters for Rig.start)."""
    rig = await Rig.start(config, interval, read_only=read_only, **rig_options)
    return Backend(rig.watcher, rig.controller, rig)
