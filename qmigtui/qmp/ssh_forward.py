"""A QMP socket on another host, reached through the system's OpenSSH.

``ssh -N -L LOCAL:REMOTE`` forwards a local unix socket to the remote one; OpenSSH brings
the operator's configuration (``~/.ssh/config``, jump hosts, agent, known_hosts) and its
encryption and authentication, which QMP itself has none of.  The forwarder belongs to the
session that started it: it dies with us (parent-death signal, own process group) and is
stopped when the session closes.  What ssh says on failure becomes one line.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shlex
import shutil
import subprocess
import tempfile
import time
import weakref
from pathlib import Path

from qmigtui.model.text import clean
from qmigtui.qmp import children

SSH_ENV = "QMIGTUI_SSH"  # the ssh command to run instead of plain ssh
START_TIMEOUT = 15.0  # seconds for ssh to log in and listen on the local socket

# what ssh prints -> what we say (checked in order; the first that matches wins)
_REASONS = (
    ("Host key verification failed", "the host key is not known or has changed (check known_hosts)"),
    ("REMOTE HOST IDENTIFICATION HAS CHANGED", "the host key has changed (check known_hosts)"),
    ("Permission denied", "authentication refused (key, agent or user)"),
    ("Could not resolve hostname", "no such host"),
    ("Connection refused", "connection refused (is sshd running there?)"),
    ("Connection timed out", "no answer (host down or filtered)"),
    ("No route to host", "no route to host"),
    ("open failed", "the remote socket cannot be opened (it does not exist, or this user may "
                    "not open it)"),
)


def ssh_command() -> list[str]:
    """The ssh to run: ``$QMIGTUI_SSH`` split as a shell would, else ``ssh``."""
    try:
        return shlex.split(os.environ.get(SSH_ENV, "")) or ["ssh"]
    except ValueError:
        return ["ssh"]


class ForwardError(OSError):
    """The forward could not be set up; ``str()`` is one line."""


def describe(stderr: str, fallback: str) -> str:
    """One line from what ssh printed on stderr."""
    lines = [clean(line, 300) for line in stderr.splitlines() if line.strip()]
    for needle, said in _REASONS:
        hit = next((line for line in lines if needle in line), None)
        if hit is not None:
            return said
    return lines[-1] if lines else fallback


class SshForward:
    """One ``ssh -N -L`` process forwarding a private local socket to ``remote``."""

    def __init__(self, host: str, remote: str, user: str = "", port: int = 0):
        self.host, self.remote, self.user, self.port = host, remote, user, port
        self.proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None

    @property
    def local(self) -> str:
        assert self._dir is not None
        return str(self._dir / "qmp.sock")

    def argv(self) -> list[str]:
        """``$QMIGTUI_SSH`` (as ``GIT_SSH_COMMAND``: "ssh -F my_config", say), else ssh."""
        argv = [*ssh_command(), "-N", "-T", "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15",
                "-L", f"{self.local}:{self.remote}"]
        if self.port:
            argv += ["-p", str(self.port)]
        if self.user:
            argv += ["-l", self.user]
        return [*argv, "--", self.host]

    def errors(self) -> str:
        """What ssh printed on stderr so far."""
        if self._dir is None:
            return ""
        try:
            return (self._dir / "ssh.err").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    async def start(self, timeout: float = START_TIMEOUT) -> str:
        """Start ssh and wait for the local socket (at most ``timeout`` seconds, login
        included); return its path or raise ForwardError."""
        if shutil.which(ssh_command()[0]) is None:
            raise ForwardError(f"{ssh_command()[0]} not found: install openssh-client")
        self.stop()
        self._dir = Path(tempfile.mkdtemp(prefix="qmigtui-ssh-"))
        _live.add(self)  # stopped at exit too, however the program ends (a signal, say)
        os.chmod(self._dir, 0o700)
        with open(self._dir / "ssh.err", "wb") as err:
            self.proc = children.spawn(self.argv(), stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.local):
            if self.proc.poll() is not None:
                why = describe(self.errors(), f"ssh exited with status {self.proc.returncode}")
                self.stop()
                raise ForwardError(why)
            if time.monotonic() > deadline:
                self.stop()
                raise ForwardError(f"ssh did not set up the forward in {timeout:g} s")
            await asyncio.sleep(0.05)
        return self.local

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Stop ssh and remove the local socket. Safe to call twice."""
        if self.proc is not None:
            children.stop(self.proc, grace=1.0)
            self.proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        _live.discard(self)


_live: weakref.WeakSet[SshForward] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for forward in list(_live):
        forward.stop()
