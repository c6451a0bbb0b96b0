"""Errors of the QMP layer; each ``str()`` is one line fit to show a person."""

from __future__ import annotations

import enum

from qmigtui.model.text import clean


class QmpError(Exception):
    """Base of the errors the QMP layer raises."""


class Unreachable(enum.Enum):
    """Why an endpoint could not be opened."""

    MISSING = "missing"  # no such socket
    REFUSED = "refused"  # nothing listens there (QEMU gone)
    NOT_A_SOCKET = "not-a-socket"
    PERMISSION = "permission"
    SILENT = "silent"  # connected, but no greeting (another client holds the monitor)
    NO_ANSWER = "no-answer"
    NOT_QMP = "not-qmp"
    OTHER = "other"

    @property
    def nobody_there(self) -> bool:
        """No QEMU listens there any more (as opposed to one that is busy or slow)."""
        return self in (Unreachable.MISSING, Unreachable.REFUSED, Unreachable.NOT_A_SOCKET)


class EndpointError(QmpError):
    """The endpoint cannot be reached or is not a QMP monitor; ``kind`` says which."""

    def __init__(self, message: str, kind: Unreachable = Unreachable.OTHER):
        super().__init__(message)
        self.kind = kind


class NotConnected(QmpError):
    """The session is not connected right now."""


class AnswerTooLarge(NotConnected):
    """A command whose last answer was too large to read; not sent again for a while."""


class ReadOnlyRefused(QmpError):
    """A mutating command was refused by read-only mode; nothing was sent."""

    def __init__(self, command: str):
        super().__init__(f"read-only mode: {command} was not sent")
        self.command = command


class CommandTimeout(QmpError):
    """QEMU did not answer a command in time."""


class CommandRejected(QmpError):
    """QEMU answered a command with an error; ``desc`` is QEMU's own text."""

    def __init__(self, command: str, error_class: str, desc: str):
        self.command = command
        self.error_class = clean(error_class, 64)
        self.desc = clean(desc, 500)
        super().__init__(f"{command}: {self.desc}")
