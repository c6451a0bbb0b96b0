"""What every kind of session offers the layers above: the one protocol they talk to.

Three kinds implement it side by side, each a module of its own: QMP on a socket
(qmp_session), a domain under libvirt (libvirt_session), and a recording played back
(replay_session). Each holds a Hub (hub.py) for what they share. What a kind can and cannot
do is data (``traits``, ``hub.missing``), so nothing above qmp/ asks which kind it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from qmigtui.qmp.hub import ConnState, EventQueue, Hub, StateListener, Tap

__all__ = ["ConnState", "EventQueue", "Hub", "Session", "StateListener", "Tap", "Traits",
           "close_all", "connect_all"]


@dataclass(frozen=True)
class Traits:
    """What a session is, as data for the layers above."""

    address: str  # where it reaches QEMU, as shown and recorded
    local: bool = True  # QEMU runs on this host, or behind an authenticated transport
    host: str | None = None  # the network host QEMU runs on (a migration can be sent there)
    same_machine: bool = False  # a Unix socket here: QEMU's process can be read from /proc
    manages_incoming: bool = False  # a manager (libvirt) prepares the destination and recovery
    peer_uri: str | None = None  # where such a manager sends the migration
    via: str = ""  # what QEMU is reached through besides QMP, for the screen
    live: bool = True  # False: a recording, whose clock is the recorded one


@runtime_checkable
class Session(Protocol):
    """One QEMU (or what stands for it), kept connected."""

    name: str
    hub: Hub  # its state, observers and event queues (read-only is ``hub.read_only``)
    traits: Traits
    timeout: float

    def raw_note(self, command: str, arguments: dict[str, Any] | None = None) -> str | None:
        """What sending ``command`` as raw QMP does beyond the command itself (None: nothing)."""

    def peer_pid(self) -> int | None:
        """The process id of the QEMU at the other end (None when unknown)."""

    def now(self) -> tuple[float, float]:
        """(monotonic, unix) time on this session's clock; a replay answers in recorded time."""

    def response_time(self) -> tuple[float, float]:
        """When the answer last returned by ``execute`` was given (a replay: when recorded)."""

    async def connect(self) -> None:
        """First connection; raise EndpointError with a one-line reason when it fails."""

    def drop(self) -> None:
        """Let go at once, without the loop (a hang-up); no reconnect follows."""

    async def close(self) -> None:
        """Disconnect and stop reconnecting (safe to repeat)."""

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      timeout: float | None = None) -> Any:
        """Run one command and return its ``return`` value; raise ReadOnlyRefused (nothing
        sent), NotConnected, CommandTimeout, or CommandRejected carrying QEMU's ``desc``."""


async def connect_all(sessions: list[Session]) -> list[Session]:
    """Connect each session in order; if one fails, close those already open and re-raise."""
    opened: list[Session] = []
    try:
        for session in sessions:
            await session.connect()
            opened.append(session)
    except BaseException:
        await close_all(opened)
        raise
    return sessions


async def close_all(sessions: list[Session]) -> None:
    """Close every session (each close is safe to repeat)."""
    for session in sessions:
        await session.close()
