"""What became of an action, as types the UI can tell apart: not allowed (nothing sent),
refused by QEMU (nothing applied; its own words), no answer in time (it may have been
applied: read back later), or a side that cannot be reached."""

from __future__ import annotations


class ControlError(Exception):
    """An action not done, or not known to be done; ``str()`` is one line for the operator."""


class NotAllowed(ControlError):
    """A rule, a guard or the input said no: nothing was sent."""


class Unreachable(ControlError):
    """The side could not be asked (not connected, the connection dropped): nothing known sent."""


class Refused(ControlError):
    """QEMU (or libvirt) answered with an error: nothing was applied."""

    def __init__(self, side: str, command: str, desc: str):
        super().__init__(f"{side}: {command}: {desc}")
        self.side, self.command, self.desc = side, command, desc


class NoAnswer(ControlError):
    """No answer in time: QEMU may have applied the command; what it did is read back and
    audited when it answers again."""

    def __init__(self, side: str, command: str):
        super().__init__(f"{side}: {command}: no answer yet: it may have been applied (read "
                         "back and audited when QEMU answers again)")
        self.side, self.command = side, command
