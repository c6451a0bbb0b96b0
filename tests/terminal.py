"""A program in a real pseudo-terminal: what it writes is the bytes a person's terminal gets."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import time


class Terminal:
    """A child on a pseudo-terminal of 120x40, its output drained as it comes."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            os.execvpe(argv[0], argv, env)
        import fcntl
        import struct
        import termios
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.output = b""
        self.status: int | None = None

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.05)
            except (OSError, ValueError):  # the terminal was closed on purpose
                time.sleep(0.05)
                return
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    return

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def poll(self) -> int | None:
        """The exit status once the child is gone (reaped once, remembered)."""
        if self.status is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return self.status
            if pid:
                self.status = status
        return self.status

    def wait(self, timeout: float) -> int | None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.poll() is not None:
                return self.status
            self.drain(0.05)
        return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)
        if self.wait(10) is None:
            os.kill(self.pid, signal.SIGKILL)
            self.wait(10)
