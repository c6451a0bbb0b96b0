"""What a domain under libvirt does for each QMP command: the libvirt call that serves it,
the job statistics read as a query-migrate answer, and raw QMP through libvirt's monitor
where the operator opted in."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

from qmigtui.model.text import clean_tree
from qmigtui.qmp import libvirt_stats as lv
from qmigtui.qmp.errors import CommandRejected
from qmigtui.qmp.libvirt_conn import active, job_or_none, off_loop, said

TAINT = "libvirt marks the domain tainted (custom-monitor)"
NO_MONITOR = f"start with --monitor to send raw QMP through libvirt ({TAINT})"
SETTABLE = frozenset({"max-bandwidth", "downtime-limit", "max-postcopy-bandwidth"})
SERVED = frozenset({"query-migrate", "query-migrate-parameters", "query-migrate-capabilities",
                    "query-qmp-schema", "query-kvm", "migrate", "migrate_cancel",
                    "migrate-start-postcopy", "migrate-pause"})


@dataclass
class Handle:
    """The libvirt module, connection and domain a session holds now (each None until known)."""

    uri: str
    domain: str
    lv: Any = None
    conn: Any = None
    dom: Any = None

    def absent(self, command: str) -> CommandRejected:
        return CommandRejected(command, "DeviceNotFound", f"{self.domain} is not running on {self.uri}")


@dataclass
class JobMemory:
    """What is known of the domain's migration job beyond what libvirt answers now."""

    announced: str | None = None  # the last status of QEMU's own MIGRATION event
    qmp_events: bool = False  # QEMU's own events reach us
    ended: dict[str, Any] | None = None  # the last job that ended, as libvirt gave it
    migrate_error: str | None = None
    last_stats: dict[str, Any] = field(default_factory=dict)  # the running job's, last read
    migration: asyncio.Future[Any] | None = None

    def begin(self) -> None:
        """A new migration: nothing of the last one counts."""
        self.ended, self.migrate_error, self.last_stats, self.announced = None, None, {}, None

    def ended_by_event(self) -> dict[str, Any] | None:
        """The last statistics seen, ended as QEMU's MIGRATION event said (libvirt's own
        JOB_COMPLETED comes seconds later, and never for a cancel)."""
        kind = {"completed": lv.JOB_COMPLETED, "failed": lv.JOB_FAILED,
                "cancelled": lv.JOB_CANCELLED}.get(self.announced or "")
        return self.last_stats | {"type": kind} if kind is not None and self.last_stats else None

    def last_job(self) -> dict[str, Any]:
        stats = self.ended or self.ended_by_event() or {}
        info = lv.migration_info(stats, lv.status_of(stats, None, self.announced))
        if info["status"] == "failed" and self.migrate_error:
            info.setdefault("error-desc", self.migrate_error)
        return clean_tree(info)

    def migrated(self, migration: asyncio.Future[Any]) -> None:
        exc = None if migration.cancelled() else migration.exception()
        if exc is None:
            return
        self.migrate_error = said(exc)
        if self.announced not in ("cancelled", "completed") and not self.ended:
            # libvirt took the job and then gave up (the destination refused, say): failed,
            # in libvirt's words, whatever QEMU's state says
            self.ended = self.last_stats | {"type": lv.JOB_FAILED, "errmsg": self.migrate_error}


def raw_note(command: str, arguments: dict[str, Any] | None, monitor: bool) -> str | None:
    """Behind libvirt's back: the commands no libvirt call serves go through its monitor."""
    served = command in SERVED or (command == "migrate-set-parameters"
                                   and set(arguments or {}) <= SETTABLE)
    return None if served or not monitor else f"sent behind libvirt's back: {TAINT}"


class DomainCommands:
    """The QMP commands of one domain, served by libvirt's calls."""

    def __init__(self, handle: Handle, *, monitor: bool, peer_uri: str | None):
        self.h = handle
        self.job = JobMemory()
        self.monitor = monitor
        self.peer_uri = peer_uri

    async def run(self, command: str, args: dict[str, Any]) -> Any:
        if command == "query-migrate" and not self.monitor:
            return await self._query_migrate()
        if command == "query-migrate-parameters" and not self.monitor:
            return await self._parameters()
        if command == "query-migrate-capabilities" and not self.monitor:
            return []  # libvirt chooses them from the migrate call's flags
        if command == "query-qmp-schema" and not self.monitor:
            return lv.schema()
        if command == "query-kvm" and not self.monitor:
            xml = await self._call("XMLDesc", command)
            return {"enabled": bool(re.search(r"<domain[^>]*type=['\"]kvm['\"]", xml)), "present": True}
        api = self._api(command, args)
        if api is not None:
            return await api
        if not self.monitor:
            raise CommandRejected(command, "GenericError",
                                  f"libvirt has no call for {command}; {NO_MONITOR}")
        return await self._monitor(command, args)

    def _api(self, command: str, args: dict[str, Any]) -> Any:
        """The libvirt call doing what ``command`` asks (a coroutine), or None when there is none."""
        lib = self.h.lv
        if command == "migrate":
            return self._migrate(args)
        if command == "migrate_cancel":
            return self._call("abortJob", command)
        if command == "migrate-start-postcopy":
            return self._call("migrateStartPostCopy", command, 0)
        if command == "migrate-pause":
            return self._call("abortJobFlags", command, lib.VIR_DOMAIN_ABORT_JOB_POSTCOPY)
        if command == "migrate-set-parameters" and set(args) <= SETTABLE:
            return self._set_parameters(args)
        if command in ("migrate-incoming", "migrate-recover", "migrate-continue") and not self.monitor:
            raise CommandRejected(command, "GenericError",
                                  f"libvirt does {command} itself (it prepares the destination, "
                                  "recovers with the migrate call, continues from pre-switchover); "
                                  f"{NO_MONITOR}")
        return None

    async def _call(self, method: str, command: str, *args: Any) -> Any:
        dom = self.h.dom
        if dom is None:
            raise self.h.absent(command)
        try:
            result = await off_loop(getattr(dom, method), *args)
        except self.h.lv.libvirtError as e:
            raise CommandRejected(command, "GenericError", said(e)) from None
        return {} if isinstance(result, int) else result  # libvirt's 0 for success

    async def _query_migrate(self) -> dict[str, Any]:
        dom = self.h.dom
        if dom is None:  # gone (migrated away, shut down) or not arrived yet
            return self.job.last_job()
        lib = self.h.lv
        qemu_said = self.job.announced if self.job.qmp_events else None
        state: tuple[int, int] | None = None
        try:
            st, reason = await off_loop(dom.state)
            state = (int(st), int(reason))
            stats = await off_loop(dom.jobStats)
        except lib.libvirtError as e:
            if self.h.dom is None or not await off_loop(active, dom):
                return self.job.last_job()
            if state is not None and e.get_error_code() == lib.VIR_ERR_OPERATION_UNSUPPORTED:
                # the destination's incoming job: libvirt keeps its statistics on the source
                return {"status": lv.incoming_status(state, qemu_said)}
            raise CommandRejected("query-migrate", "GenericError", said(e)) from None
        if stats.get("type", lv.JOB_NONE) == lv.JOB_NONE:
            # the job that ended stays on screen until another starts
            stats = self.job.ended or self.job.ended_by_event() or stats
        else:
            self.job.last_stats = dict(stats)
        status = lv.status_of(stats, state, qemu_said)
        info = lv.migration_info(stats, status)
        if status == "failed" and self.job.migrate_error and "error-desc" not in info:
            info["error-desc"] = self.job.migrate_error
        return clean_tree(info)

    async def _parameters(self) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            dom, lib = self.h.dom, self.h.lv
            values: list[int | None] = []
            for getter, flags in (("migrateGetMaxSpeed", 0), ("migrateGetMaxDowntime", 0),
                                  ("migrateGetMaxSpeed", lib.VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY)):
                try:
                    value = getattr(dom, getter)(flags) if dom is not None else None
                except lib.libvirtError:  # a domain going away, a call this libvirt lacks
                    value = None
                values.append(int(value) if isinstance(value, int) else None)
            return lv.parameters(*values)
        return await off_loop(read)

    async def _set_parameters(self, args: dict[str, Any]) -> dict[str, Any]:
        lib = self.h.lv
        for key, value in args.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise CommandRejected("migrate-set-parameters", "GenericError",
                                      f"{key}: expected a number at least 0, got {value!r}")
            if key == "downtime-limit":
                await self._call("migrateSetMaxDowntime", "migrate-set-parameters", value, 0)
            else:
                mib = -(-value // lv.MIB)  # libvirt counts whole MiB/s: round up, never to 0
                flags = lib.VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY if key == "max-postcopy-bandwidth" else 0
                await self._call("migrateSetMaxSpeed", "migrate-set-parameters", mib, flags)
        return {}

    async def _migrate(self, args: dict[str, Any]) -> dict[str, Any]:
        """``virDomainMigrateToURI3`` peer to peer, live, postcopy allowed (resume with the
        flag); the call lasts the whole migration, so it runs aside and this returns once
        libvirt took the job (or refused it)."""
        lib, dom = self.h.lv, self.h.dom
        if not self.peer_uri:
            raise CommandRejected("migrate", "GenericError",
                                  "no destination libvirt: start with --dest-connect URI")
        if dom is None:
            raise self.h.absent("migrate")
        flags = lib.VIR_MIGRATE_LIVE | lib.VIR_MIGRATE_PEER2PEER | lib.VIR_MIGRATE_POSTCOPY
        if args.get("resume"):
            flags |= lib.VIR_MIGRATE_POSTCOPY_RESUME
        params: dict[str, Any] = {}
        if isinstance(args.get("uri"), str) and args["uri"]:
            params[lib.VIR_MIGRATE_PARAM_URI] = lv.libvirt_migrate_uri(args["uri"])
        self.job.begin()
        peer = self.peer_uri
        migration = off_loop(dom.migrateToURI3, peer, params, flags)
        self.job.migration = migration
        for _ in range(50):  # up to 5 s for libvirt to take the job or refuse it
            if migration.done():
                break
            stats = await off_loop(job_or_none, dom)
            if stats.get("type", lv.JOB_NONE) != lv.JOB_NONE:
                break
            await asyncio.sleep(0.1)
        migration.add_done_callback(self.job.migrated)
        if migration.done() and migration.exception() is not None:
            raise CommandRejected("migrate", "GenericError", said(migration.exception()))  # type: ignore[arg-type]
        return {}

    async def _monitor(self, command: str, args: dict[str, Any]) -> Any:
        """Raw QMP through libvirt (the operator opted in; libvirt marks the domain tainted)."""
        import libvirt_qemu
        dom = self.h.dom
        if dom is None:
            raise self.h.absent(command)
        text = json.dumps({"execute": command, "arguments": args} if args else {"execute": command})
        try:
            reply = await off_loop(libvirt_qemu.qemuMonitorCommand, dom, text, 0)
        except self.h.lv.libvirtError as e:
            raise CommandRejected(command, "GenericError", said(e)) from None
        try:
            answer = json.loads(reply)
        except ValueError:
            raise CommandRejected(command, "GenericError", "libvirt answered in something not JSON") from None
        answer = clean_tree(answer) if isinstance(answer, dict) else {}
        if isinstance(answer.get("error"), dict):
            err = answer["error"]
            raise CommandRejected(command, str(err.get("class", "GenericError")), str(err.get("desc", "")))
        return answer.get("return")
