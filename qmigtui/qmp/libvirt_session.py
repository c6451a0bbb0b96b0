"""A domain under libvirt, watched and driven through libvirt's API, answering as a QMP session.

By default nothing goes behind libvirt's back: the state comes from ``jobStats`` and the
domain's state, QEMU's own events from ``qemuMonitorEventRegister`` (on libvirt's event
loop, see libvirt_conn, handed to the session's loop), and actions from libvirt's calls (abort job, start
postcopy, interrupt postcopy, max speed, max downtime, migrate with the resume flag).
With ``monitor`` the operator opts in to raw QMP through ``qemuMonitorCommand`` for the
rest (full query-migrate, capabilities, parameters); libvirt then marks the domain
tainted ("custom-monitor"). A read-only connection gives job statistics only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
from typing import Any

from qmigtui.model.commands import is_query
from qmigtui.model.text import clean, clean_tree
from qmigtui.qmp import libvirt_stats as lv
from qmigtui.qmp.endpoint import Endpoint
from qmigtui.qmp.errors import (
    CommandRejected,
    CommandTimeout,
    EndpointError,
    NotConnected,
    ReadOnlyRefused,
    Unreachable,
)
from qmigtui.qmp.libvirt_conn import (
    MAX_TEXT,
    active,
    job_or_none,
    libvirt_module,
    off_loop,
    said,
    start_events,
)
from qmigtui.qmp.session import ConnState, Session

TAINT = "libvirt marks the domain tainted (custom-monitor)"
NO_MONITOR = f"start with --monitor to send raw QMP through libvirt ({TAINT})"
_ids = itertools.count(1)


class LibvirtSession(Session):
    """One side (source or destination) of a domain under libvirt."""

    manages_incoming = True  # libvirt prepares the destination and its recovery itself
    via = "libvirt"

    def __init__(self, uri: str, domain: str, name: str = "source", *, read_only: bool = False,
                 monitor: bool = False, peer_uri: str | None = None, timeout: float = 10.0,
                 reconnect: bool = True):
        super().__init__(Endpoint("libvirt", path=domain, host=uri), name, read_only=read_only,
                         timeout=timeout, reconnect=reconnect)
        self.uri, self.domain = uri, domain
        self.monitor = monitor
        self.peer_uri = peer_uri  # the destination's libvirt, where a migrate sends the domain
        self._lv: Any = None
        self._conn: Any = None
        self._dom: Any = None
        self._callbacks: list[tuple[str, int]] = []
        self._announced: str | None = None  # the last status of QEMU's own MIGRATION event
        self._qmp_events = False
        self._ended: dict[str, Any] | None = None  # the last job that ended, as libvirt gave it
        self._migrate_error: str | None = None
        self._last_stats: dict[str, Any] = {}  # the running job's statistics, last read
        self._migration: asyncio.Future[Any] | None = None
        self._home: asyncio.AbstractEventLoop | None = None  # where libvirt's callbacks are handled
        self._look = asyncio.Event()  # a domain of its name came or went: look now

    # -- the Session interface -------------------------------------------------

    async def connect(self) -> None:
        """Open the connection (failing at once with libvirt's words); a domain that is not
        there yet (a destination before its migration) is waited for."""
        self._closing = False
        self._set_state(ConnState.CONNECTING, None)
        try:
            await self._open_connection()
        except EndpointError as e:
            self._set_state(ConnState.GONE, str(e))
            raise
        self._supervisor = asyncio.create_task(self._keep(), name=f"libvirt-{self.name}")

    async def close(self) -> None:
        self._closing = True
        await self._stop_supervisor()
        self._forget_domain()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.unregisterCloseCallback()
            with contextlib.suppress(Exception):  # a host that does not answer: let it go
                await asyncio.wait_for(off_loop(conn.close), 5)
        self._set_state(ConnState.CLOSED, None)

    def peer_pid(self) -> int | None:
        return None

    def raw_note(self, command: str, arguments: dict[str, Any] | None = None) -> str | None:
        """Behind libvirt's back: the commands no libvirt call serves go through its monitor."""
        served = command in ("query-migrate", "query-migrate-parameters", "query-migrate-capabilities",
                             "query-qmp-schema", "query-kvm", "migrate", "migrate_cancel",
                             "migrate-start-postcopy", "migrate-pause")
        if command == "migrate-set-parameters":
            served = set(arguments or {}) <= {"max-bandwidth", "downtime-limit", "max-postcopy-bandwidth"}
        if served or not self.monitor:
            return None
        return f"sent behind libvirt's back: {TAINT}"

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      timeout: float | None = None) -> Any:
        if self.read_only and not is_query(command, arguments):
            raise ReadOnlyRefused(command)
        if self._conn is None or self.state is not ConnState.CONNECTED:
            why = f" ({self.last_error})" if self.last_error else ""
            raise NotConnected(f"{self.name} is {self.state.value}{why}")
        ident = f"lv{next(_ids)}"
        msg: dict[str, Any] = {"execute": command, "id": ident}
        if arguments:
            msg["arguments"] = arguments
        self._observe("command", msg)
        limit = self.timeout if timeout is None else timeout
        try:
            answer = await asyncio.wait_for(self._run(command, dict(arguments or {})), limit)
        except TimeoutError:
            raise CommandTimeout(f"{command}: no answer from libvirt ({self.uri}) in {limit:g} s") from None
        except CommandRejected as e:
            self._observe("response", {"error": {"class": e.error_class, "desc": e.desc}, "id": ident})
            raise
        except (ReadOnlyRefused, NotConnected, CommandTimeout):
            raise
        except Exception as e:  # an answer of libvirt's we did not expect: one line, not a crash
            desc = clean(f"{type(e).__name__}: {e}", MAX_TEXT)
            self._observe("response", {"error": {"class": "GenericError", "desc": desc}, "id": ident})
            raise CommandRejected(command, "GenericError", desc) from None
        self._observe("response", {"return": answer, "id": ident})
        return answer

    # -- commands --------------------------------------------------------------------

    async def _run(self, command: str, args: dict[str, Any]) -> Any:
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
        lib = self._lv
        if command == "migrate":
            return self._migrate(args)
        if command == "migrate_cancel":
            return self._call("abortJob", command)
        if command == "migrate-start-postcopy":
            return self._call("migrateStartPostCopy", command, 0)
        if command == "migrate-pause":
            return self._call("abortJobFlags", command, lib.VIR_DOMAIN_ABORT_JOB_POSTCOPY)
        if command == "migrate-set-parameters" and set(args) <= {"max-bandwidth", "downtime-limit",
                                                                "max-postcopy-bandwidth"}:
            return self._set_parameters(args)
        if command in ("migrate-incoming", "migrate-recover", "migrate-continue") and not self.monitor:
            raise CommandRejected(command, "GenericError",
                                  f"libvirt does {command} itself (it prepares the destination, "
                                  "recovers with the migrate call, continues from pre-switchover); "
                                  f"{NO_MONITOR}")
        return None

    async def _call(self, method: str, command: str, *args: Any) -> Any:
        dom = self._dom
        if dom is None:
            raise CommandRejected(command, "DeviceNotFound", f"{self.domain} is not running on {self.uri}")
        try:
            result = await off_loop(getattr(dom, method), *args)
        except self._lv.libvirtError as e:
            raise CommandRejected(command, "GenericError", said(e)) from None
        return {} if isinstance(result, int) else result  # libvirt's 0 for success

    async def _query_migrate(self) -> dict[str, Any]:
        dom = self._dom
        if dom is None:  # gone (migrated away, shut down) or not arrived yet
            return self._last_job()
        lib = self._lv
        qemu_said = self._announced if self._qmp_events else None
        state: tuple[int, int] | None = None
        try:
            st, reason = await off_loop(dom.state)
            state = (int(st), int(reason))
            stats = await off_loop(dom.jobStats)
        except lib.libvirtError as e:
            if self._dom is None or not await off_loop(active, dom):
                return self._last_job()
            if state is not None and e.get_error_code() == lib.VIR_ERR_OPERATION_UNSUPPORTED:
                # the destination's incoming job: libvirt keeps its statistics on the source
                return {"status": lv.incoming_status(state, qemu_said)}
            raise CommandRejected("query-migrate", "GenericError", said(e)) from None
        if stats.get("type", lv.JOB_NONE) == lv.JOB_NONE:
            # the job that ended stays on screen until another starts
            stats = self._ended or self._ended_by_event() or stats
        else:
            self._last_stats = dict(stats)
        status = lv.status_of(stats, state, qemu_said)
        info = lv.migration_info(stats, status)
        if status == "failed" and self._migrate_error and "error-desc" not in info:
            info["error-desc"] = self._migrate_error
        return clean_tree(info)

    def _ended_by_event(self) -> dict[str, Any] | None:
        """The last statistics seen, ended as QEMU's MIGRATION event said (libvirt's own
        JOB_COMPLETED comes seconds later, and never for a cancel)."""
        kind = {"completed": lv.JOB_COMPLETED, "failed": lv.JOB_FAILED,
                "cancelled": lv.JOB_CANCELLED}.get(self._announced or "")
        return self._last_stats | {"type": kind} if kind is not None and self._last_stats else None

    def _last_job(self) -> dict[str, Any]:
        stats = self._ended or self._ended_by_event() or {}
        info = lv.migration_info(stats, lv.status_of(stats, None, self._announced))
        if info["status"] == "failed" and self._migrate_error:
            info.setdefault("error-desc", self._migrate_error)
        return clean_tree(info)

    async def _parameters(self) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            dom, lib = self._dom, self._lv
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
        lib = self._lv
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
        lib, dom = self._lv, self._dom
        if not self.peer_uri:
            raise CommandRejected("migrate", "GenericError",
                                  "no destination libvirt: start with --dest-connect URI")
        if dom is None:
            raise CommandRejected("migrate", "DeviceNotFound", f"{self.domain} is not running on {self.uri}")
        flags = lib.VIR_MIGRATE_LIVE | lib.VIR_MIGRATE_PEER2PEER | lib.VIR_MIGRATE_POSTCOPY
        if args.get("resume"):
            flags |= lib.VIR_MIGRATE_POSTCOPY_RESUME
        params: dict[str, Any] = {}
        if isinstance(args.get("uri"), str) and args["uri"]:
            params[lib.VIR_MIGRATE_PARAM_URI] = lv.libvirt_migrate_uri(args["uri"])
        self._ended, self._migrate_error, self._last_stats = None, None, {}
        self._announced = None
        peer = self.peer_uri
        migration = off_loop(dom.migrateToURI3, peer, params, flags)
        self._migration = migration
        for _ in range(50):  # up to 5 s for libvirt to take the job or refuse it
            if migration.done():
                break
            stats = await off_loop(job_or_none, dom)
            if stats.get("type", lv.JOB_NONE) != lv.JOB_NONE:
                break
            await asyncio.sleep(0.1)
        migration.add_done_callback(self._migrated)
        if migration.done() and migration.exception() is not None:
            raise CommandRejected("migrate", "GenericError", said(migration.exception()))  # type: ignore[arg-type]
        return {}

    def _migrated(self, migration: asyncio.Future[Any]) -> None:
        exc = None if migration.cancelled() else migration.exception()
        if exc is None:
            return
        self._migrate_error = said(exc)
        if self._announced not in ("cancelled", "completed") and not self._ended:
            # libvirt took the job and then gave up (the destination refused, say): failed,
            # in libvirt's words, whatever QEMU's state says
            self._ended = self._last_stats | {"type": lv.JOB_FAILED, "errmsg": self._migrate_error}

    async def _monitor(self, command: str, args: dict[str, Any]) -> Any:
        """Raw QMP through libvirt (the operator opted in; libvirt marks the domain tainted)."""
        import libvirt_qemu
        dom = self._dom
        if dom is None:
            raise CommandRejected(command, "DeviceNotFound", f"{self.domain} is not running on {self.uri}")
        text = json.dumps({"execute": command, "arguments": args} if args else {"execute": command})
        try:
            reply = await off_loop(libvirt_qemu.qemuMonitorCommand, dom, text, 0)
        except self._lv.libvirtError as e:
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

    # -- connection and domain ------------------------------------------------------

    async def _open_connection(self) -> None:
        lib = self._lv = libvirt_module()
        start_events()
        self._home = asyncio.get_running_loop()
        opener = lib.openReadOnly if self.read_only else lib.open
        try:
            conn = await asyncio.wait_for(off_loop(opener, self.uri), self.timeout)
        except TimeoutError:
            raise EndpointError(f"{self.uri}: no answer from libvirt in {self.timeout:g} s",
                                Unreachable.NO_ANSWER) from None
        except lib.libvirtError as e:
            raise EndpointError(f"{self.uri}: {said(e)}", Unreachable.REFUSED) from None
        self._conn = conn
        with contextlib.suppress(lib.libvirtError):
            conn.setKeepAlive(5, 3)
        with contextlib.suppress(lib.libvirtError):
            conn.registerCloseCallback(self._here(self._closed), None)
        with contextlib.suppress(lib.libvirtError):  # any domain's coming and going: is it ours?
            conn.domainEventRegisterAny(None, lib.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                        self._here(self._any_lifecycle), None)
        version = await off_loop(conn.getVersion)
        self.greeting = {"QMP": {"version": {"qemu": {"major": version // 1_000_000,
                                                      "minor": version // 1000 % 1000,
                                                      "micro": version % 1000},
                                             "package": "libvirt"}, "capabilities": []}}
        await self._find_domain()
        if self._dom is None and self.name == "source":
            conn.close()
            self._conn = None
            raise EndpointError(f"{self.uri}: no running domain named {self.domain}", Unreachable.MISSING)

    async def _find_domain(self) -> None:
        """Look the domain up; adopt it (callbacks, CONNECTED) or say it is not there."""
        lib, conn = self._lv, self._conn
        try:
            dom = await off_loop(conn.lookupByName, self.domain)
            active = await off_loop(dom.isActive)
        except lib.libvirtError:
            dom, active = None, False
        if not active:
            self._dom = None  # its callbacks stay: libvirt's JOB_COMPLETED may still come
            if not self.connects:  # never seen here: a destination before its migration
                self._set_state(ConnState.RECONNECTING,
                                f"waiting for {self.domain} on {self.uri} (not running there)")
            return
        if self._dom is None:
            self._adopt_domain(dom)

    def _adopt_domain(self, dom: Any) -> None:
        lib, conn = self._lv, self._conn
        self._forget_domain()
        self._dom = dom
        self.missing = []
        self._qmp_events = False
        try:
            import libvirt_qemu
            cb = libvirt_qemu.qemuMonitorEventRegister(conn, dom, None, self._here(self._qemu_event), None, 0)
            self._callbacks.append(("qemu", cb))
            self._qmp_events = True
        except lib.libvirtError as e:
            why = "read-only connection" if self.read_only else clean(said(e), 80)
            self.missing.append(f"QEMU's own events ({why}): states come from libvirt's job")
        for ident, handler in ((lib.VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION, self._iteration),
                               (lib.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, self._job_completed),
                               (lib.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle)):
            try:
                self._callbacks.append(("domain", conn.domainEventRegisterAny(dom, ident, self._here(handler),
                                                                               None)))
            except lib.libvirtError as e:
                self.missing.append(f"libvirt's job events ({clean(said(e), 80)})")
        self.connects += 1
        self._set_state(ConnState.CONNECTED, None)

    def _forget_domain(self) -> None:
        conn = self._conn
        for kind, cb in self._callbacks:
            with contextlib.suppress(Exception):
                if kind == "qemu":
                    import libvirt_qemu
                    libvirt_qemu.qemuMonitorEventDeregister(conn, cb)
                else:
                    conn.domainEventDeregisterAny(cb)
        self._callbacks.clear()
        self._dom = None

    async def _keep(self) -> None:
        """Once a second, and at once on a lifecycle event of its name: the domain arrived,
        left, or the connection must be opened again."""
        delay = 1.0
        while not self._closing:
            with contextlib.suppress(TimeoutError):  # or at once when a domain of its name comes
                await asyncio.wait_for(self._look.wait(), delay)
            self._look.clear()
            try:
                if self._conn is None or not await off_loop(self._conn.isAlive):
                    self._forget_domain()
                    self._conn = None
                    await self._open_connection()
                else:
                    await self._find_domain()
                delay = 1.0
            except EndpointError as e:
                self._set_state(ConnState.RECONNECTING if self.reconnect else ConnState.GONE, str(e))
                delay = min(delay * 2, self.max_backoff)
            except Exception as e:  # libvirt said something unexpected: keep trying, say it
                self._set_state(ConnState.RECONNECTING, clean(f"{self.uri}: {e}", MAX_TEXT))

    # -- libvirt's callbacks (handed from libvirt's event thread to this session's loop) -----

    def _here(self, handler: Any) -> Any:
        home = self._home

        def deliver(*args: Any) -> None:
            if home is not None and not home.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    home.call_soon_threadsafe(handler, *args)
        return deliver

    def _any_lifecycle(self, _conn: Any, dom: Any, _event: int, _detail: int, _opaque: Any) -> None:
        with contextlib.suppress(Exception):
            if dom.name() == self.domain:
                self._look.set()

    def _closed(self, _conn: Any, reason: int, _opaque: Any) -> None:
        if not self._closing:
            self._dom = None
            self._callbacks.clear()
            self._set_state(ConnState.RECONNECTING, f"{self.uri}: the connection to libvirt closed "
                                                    f"(reason {reason})")

    def _qemu_event(self, _conn: Any, _dom: Any, name: str, seconds: int, micros: int,
                    details: str | None, _opaque: Any) -> None:
        try:
            data = json.loads(details) if details else None
        except ValueError:
            data = {"raw": clean(details or "", MAX_TEXT)}
        msg = clean_tree(lv.event(str(name)[:64], int(seconds), int(micros), data))
        if msg.get("event") == "MIGRATION" and isinstance(msg.get("data"), dict):
            status = msg["data"].get("status")
            self._announced = status if isinstance(status, str) else self._announced
        self._tap("event", msg)

    def _iteration(self, _conn: Any, _dom: Any, iteration: int, _opaque: Any) -> None:
        if not self._qmp_events:  # QEMU's MIGRATION_PASS says it already
            self._tap("event", self._now_event("MIGRATION_PASS", {"pass": int(iteration)}))

    def _job_completed(self, _conn: Any, _dom: Any, stats: dict[str, Any], _opaque: Any) -> None:
        self._ended = dict(stats) | {"type": lv.JOB_COMPLETED}
        if not self._qmp_events:
            self._tap("event", self._now_event("MIGRATION", {"status": "completed"}))

    def _lifecycle(self, _conn: Any, _dom: Any, event: int, _detail: int, _opaque: Any) -> None:
        if event in (self._lv.VIR_DOMAIN_EVENT_STOPPED, self._lv.VIR_DOMAIN_EVENT_UNDEFINED):
            # migrated away or shut down: the last job stays readable, and the callbacks stay
            # until another domain of the name is adopted (JOB_COMPLETED comes after this)
            self._dom = None

    def _now_event(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        _mono, wall = self.now()
        return lv.event(name, int(wall), int(wall % 1 * 1e6), data)
