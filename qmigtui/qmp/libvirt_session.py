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
from typing import Any

from qmigtui.model.text import clean, clean_tree
from qmigtui.qmp import libvirt_stats as lv
from qmigtui.qmp.errors import CommandRejected, CommandTimeout, EndpointError, NotConnected, Unreachable
from qmigtui.qmp.hub import ConnState, Hub, stop_task, wall_now
from qmigtui.qmp.libvirt_commands import DomainCommands, Handle, raw_note
from qmigtui.qmp.libvirt_conn import MAX_TEXT, libvirt_module, off_loop, said, start_events
from qmigtui.qmp.session import Traits

_ids = itertools.count(1)


class LibvirtSession:
    """One side (source or destination) of a domain under libvirt (a Session)."""

    def __init__(self, uri: str, domain: str, name: str = "source", *, read_only: bool = False,
                 monitor: bool = False, peer_uri: str | None = None, timeout: float = 10.0,
                 reconnect: bool = True, max_backoff: float = 5.0):
        self.name = name
        self.hub = Hub(name, read_only=read_only)
        # libvirt prepares the destination and its recovery itself; a migrate sends the
        # domain to the destination's libvirt, ``peer_uri``
        self.traits = Traits(f"libvirt:{uri}#{domain}", manages_incoming=True, peer_uri=peer_uri,
                             via="libvirt")
        self.uri, self.domain = uri, domain
        self.monitor = monitor
        self.timeout, self.reconnect, self.max_backoff = timeout, reconnect, max_backoff
        self.h = Handle(uri, domain)
        self.calls = DomainCommands(self.h, monitor=monitor, peer_uri=peer_uri)
        self.job = self.calls.job
        self._callbacks: list[tuple[str, int]] = []
        self._closing = False
        self._supervisor: asyncio.Task[None] | None = None
        self._home: asyncio.AbstractEventLoop | None = None  # where libvirt's callbacks are handled
        self._look = asyncio.Event()  # a domain of its name came or went: look now

    # -- the Session interface -------------------------------------------------

    async def connect(self) -> None:
        """Open the connection (failing at once with libvirt's words); a domain that is not
        there yet (a destination before its migration) is waited for."""
        self._closing = False
        self.hub.set_state(ConnState.CONNECTING, None)
        try:
            await self._open_connection()
        except EndpointError as e:
            self.hub.set_state(ConnState.GONE, str(e))
            raise
        self._supervisor = asyncio.create_task(self._keep(), name=f"libvirt-{self.name}")

    async def close(self) -> None:
        self._closing = True
        await stop_task(self._supervisor)
        self._supervisor = None
        self._forget_domain()
        conn, self.h.conn = self.h.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.unregisterCloseCallback()
            with contextlib.suppress(Exception):  # a host that does not answer: let it go
                await asyncio.wait_for(off_loop(conn.close), 5)
        self.hub.set_state(ConnState.CLOSED, None)

    def peer_pid(self) -> int | None:
        return None

    def now(self) -> tuple[float, float]:
        return wall_now()

    def response_time(self) -> tuple[float, float]:
        return wall_now()

    def drop(self) -> None:
        """Let go without the loop: no reconnect follows (libvirt's connection closes with
        the process)."""
        self._closing = True

    def raw_note(self, command: str, arguments: dict[str, Any] | None = None) -> str | None:
        return raw_note(command, arguments, self.monitor)

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      timeout: float | None = None) -> Any:
        self.hub.guard(command, arguments, connected=self.h.conn is not None)
        ident = f"lv{next(_ids)}"
        msg: dict[str, Any] = {"execute": command, "id": ident}
        if arguments:
            msg["arguments"] = arguments
        self.hub.observe("command", msg)
        limit = self.timeout if timeout is None else timeout
        try:
            answer = await asyncio.wait_for(self.calls.run(command, dict(arguments or {})), limit)
        except TimeoutError:
            raise CommandTimeout(f"{command}: no answer from libvirt ({self.uri}) in {limit:g} s") from None
        except CommandRejected as e:
            self.hub.observe("response", {"error": {"class": e.error_class, "desc": e.desc}, "id": ident})
            raise
        except (NotConnected, CommandTimeout):
            raise
        except Exception as e:  # an answer of libvirt's we did not expect: one line, not a crash
            desc = clean(f"{type(e).__name__}: {e}", MAX_TEXT)
            self.hub.observe("response", {"error": {"class": "GenericError", "desc": desc}, "id": ident})
            raise CommandRejected(command, "GenericError", desc) from None
        self.hub.observe("response", {"return": answer, "id": ident})
        return answer

    # -- connection and domain ------------------------------------------------------

    async def _open_connection(self) -> None:
        lib = self.h.lv = libvirt_module()
        start_events()
        self._home = asyncio.get_running_loop()
        opener = lib.openReadOnly if self.hub.read_only else lib.open
        try:
            conn = await asyncio.wait_for(off_loop(opener, self.uri), self.timeout)
        except TimeoutError:
            raise EndpointError(f"{self.uri}: no answer from libvirt in {self.timeout:g} s",
                                Unreachable.NO_ANSWER) from None
        except lib.libvirtError as e:
            raise EndpointError(f"{self.uri}: {said(e)}", Unreachable.REFUSED) from None
        self.h.conn = conn
        with contextlib.suppress(lib.libvirtError):
            conn.setKeepAlive(5, 3)
        with contextlib.suppress(lib.libvirtError):
            conn.registerCloseCallback(self._here(self._closed), None)
        with contextlib.suppress(lib.libvirtError):  # any domain's coming and going: is it ours?
            conn.domainEventRegisterAny(None, lib.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                        self._here(self._any_lifecycle), None)
        version = await off_loop(conn.getVersion)
        self.hub.greeting = {"QMP": {"version": {"qemu": {"major": version // 1_000_000,
                                                      "minor": version // 1000 % 1000,
                                                      "micro": version % 1000},
                                             "package": "libvirt"}, "capabilities": []}}
        await self._find_domain()
        if self.h.dom is None and self.name == "source":
            conn.close()
            self.h.conn = None
            raise EndpointError(f"{self.uri}: no running domain named {self.domain}", Unreachable.MISSING)

    async def _find_domain(self) -> None:
        """Look the domain up; adopt it (callbacks, CONNECTED) or say it is not there."""
        lib, conn = self.h.lv, self.h.conn
        try:
            dom = await off_loop(conn.lookupByName, self.domain)
            active = await off_loop(dom.isActive)
        except lib.libvirtError:
            dom, active = None, False
        if not active:
            self.h.dom = None  # its callbacks stay: libvirt's JOB_COMPLETED may still come
            if not self.hub.connects:  # never seen here: a destination before its migration
                self.hub.set_state(ConnState.RECONNECTING,
                                f"waiting for {self.domain} on {self.uri} (not running there)")
            return
        if self.h.dom is None:
            self._adopt_domain(dom)

    def _adopt_domain(self, dom: Any) -> None:
        lib, conn = self.h.lv, self.h.conn
        self._forget_domain()
        self.h.dom = dom
        self.hub.missing = []
        self.job.qmp_events = False
        try:
            import libvirt_qemu
            cb = libvirt_qemu.qemuMonitorEventRegister(conn, dom, None, self._here(self._qemu_event), None, 0)
            self._callbacks.append(("qemu", cb))
            self.job.qmp_events = True
        except lib.libvirtError as e:
            why = "read-only connection" if self.hub.read_only else clean(said(e), 80)
            self.hub.missing.append(f"QEMU's own events ({why}): states come from libvirt's job")
        for ident, handler in ((lib.VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION, self._iteration),
                               (lib.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, self._job_completed),
                               (lib.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle)):
            try:
                self._callbacks.append(("domain", conn.domainEventRegisterAny(dom, ident, self._here(handler),
                                                                               None)))
            except lib.libvirtError as e:
                self.hub.missing.append(f"libvirt's job events ({clean(said(e), 80)})")
        self.hub.connected()

    def _forget_domain(self) -> None:
        conn = self.h.conn
        for kind, cb in self._callbacks:
            with contextlib.suppress(Exception):
                if kind == "qemu":
                    import libvirt_qemu
                    libvirt_qemu.qemuMonitorEventDeregister(conn, cb)
                else:
                    conn.domainEventDeregisterAny(cb)
        self._callbacks.clear()
        self.h.dom = None

    async def _keep(self) -> None:
        """Once a second, and at once on a lifecycle event of its name: the domain arrived,
        left, or the connection must be opened again."""
        delay = 1.0
        while not self._closing:
            with contextlib.suppress(TimeoutError):  # or at once when a domain of its name comes
                await asyncio.wait_for(self._look.wait(), delay)
            self._look.clear()
            try:
                if self.h.conn is None or not await off_loop(self.h.conn.isAlive):
                    self._forget_domain()
                    self.h.conn = None
                    await self._open_connection()
                else:
                    await self._find_domain()
                delay = 1.0
            except EndpointError as e:
                self.hub.set_state(ConnState.RECONNECTING if self.reconnect else ConnState.GONE, str(e))
                delay = min(delay * 2, self.max_backoff)
            except Exception as e:  # libvirt said something unexpected: keep trying, say it
                self.hub.set_state(ConnState.RECONNECTING, clean(f"{self.uri}: {e}", MAX_TEXT))

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
            self.h.dom = None
            self._callbacks.clear()
            self.hub.set_state(ConnState.RECONNECTING, f"{self.uri}: the connection to libvirt closed "
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
            self.job.announced = status if isinstance(status, str) else self.job.announced
        self.hub.deliver("event", msg)

    def _iteration(self, _conn: Any, _dom: Any, iteration: int, _opaque: Any) -> None:
        if not self.job.qmp_events:  # QEMU's MIGRATION_PASS says it already
            self.hub.deliver("event", self._now_event("MIGRATION_PASS", {"pass": int(iteration)}))

    def _job_completed(self, _conn: Any, _dom: Any, stats: dict[str, Any], _opaque: Any) -> None:
        self.job.ended = dict(stats) | {"type": lv.JOB_COMPLETED}
        if not self.job.qmp_events:
            self.hub.deliver("event", self._now_event("MIGRATION", {"status": "completed"}))

    def _lifecycle(self, _conn: Any, _dom: Any, event: int, _detail: int, _opaque: Any) -> None:
        if event in (self.h.lv.VIR_DOMAIN_EVENT_STOPPED, self.h.lv.VIR_DOMAIN_EVENT_UNDEFINED):
            # migrated away or shut down: the last job stays readable, and the callbacks stay
            # until another domain of the name is adopted (JOB_COMPLETED comes after this)
            self.h.dom = None

    def _now_event(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        _mono, wall = self.now()
        return lv.event(name, int(wall), int(wall % 1 * 1e6), data)
