"""Any command of the schema, checked before sending: forms, the console, jobs and threads.

Queries go straight to QEMU; every other command goes through the Controller's
``send`` (read-only mode refuses it there, and the audit log sees it).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qmigtui.control import measure
from qmigtui.control.ops import Controller
from qmigtui.control.outcomes import ControlError
from qmigtui.model.commands import JOB_COMMANDS, CommandInfo, check, is_query
from qmigtui.model.text import clean
from qmigtui.qmp.errors import QmpError


@dataclass(frozen=True)
class ThreadRow:
    """A migration thread: QEMU's name for it, the host thread id, CPU when it runs here."""

    name: str
    tid: int
    cpu_percent: float | None  # None when the QEMU is not on this host


class Tools:
    """Generic access to the commands of one watched pair."""

    def __init__(self, controller: Controller):
        self.controller = controller
        self._cpu: dict[int, tuple[float, float]] = {}

    def commands(self, side: str) -> dict[str, CommandInfo]:
        schema = self.controller.watcher.schema(side)
        return dict(schema.commands) if schema is not None else {}

    def problems(self, side: str, name: str, args: dict[str, Any]) -> list[str]:
        """What is wrong with a command before it is sent (by this QEMU's own schema)."""
        info = self.commands(side).get(name)
        if info is None:
            return [f"{side} QEMU has no command {name!r}"] if self.commands(side) else []
        return check(info, args)

    async def run(self, side: str, name: str, args: dict[str, Any] | None = None) -> Any:
        """Check, then send; a query is asked directly, anything else goes through the audit."""
        args = args or {}
        if not self.controller.has_side(side):
            raise ControlError(f"no {side} endpoint")
        try:
            await self.controller.watcher.ensure_schema(side)  # check against it, even this early
        except (QmpError, ValueError) as e:
            raise ControlError(f"{side}: cannot read the schema: {e}") from None
        if name == "query-migrationthreads":  # with each thread's CPU, or from /proc before 9.0
            return [t.__dict__ for t in await self.threads(side)]
        problems = self.problems(side, name, args)
        if problems:
            raise ControlError(f"{problems[0]}; nothing sent")
        if is_query(name, args):
            return await self.controller.query(side, name, args or None)
        result = await self.controller.send(side, name, args or None)
        self.controller.watcher.poke(side, config=name.startswith("migrate-set"))
        return result

    @staticmethod
    def needs_no_form(name: str) -> bool:
        """A tool run with no arguments even where the schema lacks it (the migration threads
        are read from /proc where QEMU runs on this host)."""
        return name == "query-migrationthreads"

    async def run_tool(self, side: str, name: str, args: dict[str, Any]) -> Any:
        """One command as the Tools pane and the console send it: a dirty-rate measurement is
        kept for the forecast (and returned in bytes/s), a job is followed to its end, any
        other command of the schema is run."""
        if name == "calc-dirty-rate":
            r = await measure.dirty_rate(self.controller, int(args.get("calc-time", 1)), side,
                                         str(args.get("mode", "page-sampling")),
                                         int(args.get("sample-pages", 4096)))
            return {"dirty-rate (bytes/s)": r.bytes_per_s, "window (s)": r.seconds, "mode": r.mode,
                    "per vCPU (bytes/s)": list(r.vcpus)}
        result = await self.run(side, name, args)
        if name in JOB_COMMANDS:
            return await self.follow_job(side, str(args.get("job-id")))
        return result

    async def follow_job(self, side: str, job_id: str, timeout: float = 300.0) -> dict[str, Any]:
        """Wait for a job (snapshot-save/load/delete) to conclude, then dismiss it.

        Returns its last query-jobs entry; raises ControlError with QEMU's error text.
        """
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            jobs = await self.controller.query(side, "query-jobs")
            job = next((j for j in jobs or [] if isinstance(j, dict) and j.get("id") == job_id), None)
            if job is None:
                return last | {"status": last.get("status", "gone")}
            last = job
            if job.get("status") in ("concluded", "null"):
                await self.controller.send(side, "job-dismiss", {"id": job_id})
                if job.get("error"):
                    raise ControlError(f"{side}: job {job_id}: {job['error']}")
                return job
            await asyncio.sleep(0.2)
        raise ControlError(f"{side}: job {job_id} still {last.get('status', '?')} after {timeout:g} s")

    async def threads(self, side: str) -> list[ThreadRow]:
        """query-migrationthreads, with each thread's CPU from /proc when QEMU runs here.

        A QEMU without that command (before 9.0) that runs here on a Unix socket has its
        migration threads read from /proc instead (named when QEMU runs with debug-threads=on,
        as the lab does).
        """
        session = self.controller.watcher.session(side)
        local = session.traits.local
        schema = await self.controller.watcher.ensure_schema(side)
        if schema.has("query-migrationthreads"):
            reply = await self.controller.query(side, "query-migrationthreads")
        else:
            pid = session.peer_pid()
            if pid is None:
                raise ControlError(f"{side}: this QEMU has no query-migrationthreads (before 9.0, "
                                   "or removed as in 11.1); its threads are read from /proc only "
                                   "over a local Unix socket to it")
            reply = _threads_from_proc(pid)
        rows = []
        now = time.monotonic()
        for t in reply if isinstance(reply, list) else []:
            tid = t.get("thread-id") if isinstance(t, dict) else None
            if not isinstance(tid, int) or isinstance(tid, bool) or tid <= 0:
                continue  # not a thread as QEMU describes one
            cpu = _cpu_seconds(tid) if local else None
            percent = None
            if cpu is not None:
                before = self._cpu.get(tid)
                if before is not None and now > before[1]:
                    percent = 100 * (cpu - before[0]) / (now - before[1])
                self._cpu[tid] = (cpu, now)
            rows.append(ThreadRow(clean(str(t.get("name", "?")), 64), tid, percent if local else None))
        return rows


MIGRATION_THREADS = ("live_migration", "mig/", "multifd", "postcopy", "return path", "mig_")


def _threads_from_proc(pid: int) -> list[dict[str, Any]]:
    """Threads of a local QEMU whose names say they migrate (as query-migrationthreads would)."""
    out = []
    for task in sorted(Path(f"/proc/{pid}/task").glob("*"), key=lambda p: int(p.name)):
        try:
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        if any(m in name for m in MIGRATION_THREADS):
            out.append({"name": name, "thread-id": int(task.name)})
    return out


def _cpu_seconds(tid: int) -> float | None:
    try:
        fields = Path(f"/proc/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
