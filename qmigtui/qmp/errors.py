"""Errors of the QMP layer; each ``str()`` is one line fit to show a person."""

from __future__ import annotations

from qmigtui.model.text import clean


class QmpError(Exception):
    """Base of the errors the QMP layer raises."""


class EndpointError(QmpError):
    """The endpoint cannot be reached or is not a QMP monitor."""


class NotConnected(QmpError):
    """The session is not connected right now."""


class ReadOnlyRefused(QmpError):
    """A mutating command was refused by read-only mode; nothing was sent."""

    def __init__(self, command: str):
        super().__init__(f"read-only: {command} was not sent")
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
