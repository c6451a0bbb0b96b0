"""Child processes that cannot outlive us: parent-death signal, own process group, reaping."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from typing import IO, Any

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child, between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setpgrp()


def alive(pid: int, group: bool = False) -> bool:
    """Whether the process (or, with ``group``, any process of the group) ``pid`` still runs
    (one of another user's counts as running)."""
    try:
        (os.killpg if group else os.kill)(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def spawn(argv: list[str], *, stdout: IO[Any] | int | None = None,
          stderr: IO[Any] | int | None = None, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a child in its own process group that the kernel kills if we die, even by SIGKILL."""
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                            env=env, preexec_fn=_die_with_parent, close_fds=True)


def stop(proc: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; always reap.

    A QEMU left in postcopy-paused may ignore SIGTERM, hence the fallback.
    """
    stop_all([proc], grace)


def stop_all(procs: list[subprocess.Popen[bytes]], grace: float = 3.0) -> None:
    """``stop`` for several at once: one grace for all of them, not one each."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        time.sleep(0.02)
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
