"""query-migrate answers against MIGRATION events, in the order they came from QEMU.

QEMU can write an answer it made before a change of state after the MIGRATION
event that announced the change.  Such an answer is *overtaken*: shown, it would
step the state back.  The order is judged on the wire (or in a recording, which
keeps it), so a live watcher and a replay of it drop the same answers.
"""

from __future__ import annotations

from typing import Any

POLLED = "query-migrate"
MAX_IN_FLIGHT = 64  # ids of answers that never came (timeouts) are forgotten past this


class PollOrder:
    """Fed every command, event and answer of one session, in the order they came."""

    def __init__(self) -> None:
        self.events = 0  # MIGRATION events so far
        self.announced: str | None = None  # the status the latest one announced
        self._in_flight: dict[Any, int] = {}  # query-migrate id -> events when it was sent

    def sent(self, msg: dict[str, Any]) -> None:
        if msg.get("execute") == POLLED:
            if len(self._in_flight) >= MAX_IN_FLIGHT:
                self._in_flight.clear()
            self._in_flight[msg.get("id")] = self.events

    def event(self, msg: dict[str, Any]) -> None:
        if msg.get("event") == "MIGRATION":
            self.events += 1
            data = msg.get("data")
            status = data.get("status") if isinstance(data, dict) else None
            self.announced = status if isinstance(status, str) else None

    def answered(self, msg: dict[str, Any]) -> bool | None:
        """For a query-migrate answer: was it overtaken by an event announcing another status
        (None for any other answer)."""
        sent = self._in_flight.pop(msg.get("id"), None)
        if sent is None:
            return None
        answer = msg.get("return")
        status = answer.get("status") if isinstance(answer, dict) else None
        return sent != self.events and status != self.announced
