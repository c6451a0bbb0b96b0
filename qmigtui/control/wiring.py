"""Addresses that something else than the operator decides: a pair whose link goes through a
relay (the lab's) wires its destination's listening port to the relay, knows both recovery
addresses, and mends the link before a recovery.  The controller asks a Wiring where it has
one; the lab's is in control/rig.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from qmigtui.model.recovery import RecoveryAddresses

Send = Callable[[str, str, dict[str, Any]], Awaitable[Any]]  # side, command, arguments
Query = Callable[[str, str], Awaitable[Any]]  # side, command


class Wiring(Protocol):
    def owns(self, uri: str | None) -> bool:
        """Whether a migration to ``uri`` (None: no URI given) goes over this wiring."""

    async def prepare_incoming(self, send: Send, query: Query, destination_status: str,
                               extra: dict[str, Any]) -> str:
        """The destination listening (where it is not yet): the URI the source is to use."""

    def recovery_addresses(self) -> RecoveryAddresses:
        """Where the destination listens again, and where the source connects to."""

    def before_recover(self) -> None:
        """What the wiring does first when a paused postcopy is recovered (mend the link)."""
