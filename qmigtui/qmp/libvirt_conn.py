"""Reaching libvirt: its Python binding, its event loop, its words, its domains."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from qmigtui.model.text import clean
from qmigtui.qmp import libvirt_stats as lv
from qmigtui.qmp.errors import EndpointError, Unreachable

MAX_TEXT = 400


def libvirt_module() -> Any:
    """libvirt-python, with its errors kept off the terminal (they arrive as exceptions)."""
    try:
        import libvirt
    except ImportError:
        raise EndpointError("libvirt-python is not installed: pip install 'qmigtui[libvirt]' "
                            "(it builds against libvirt-dev)", Unreachable.OTHER) from None
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    return libvirt


_events_lock = threading.Lock()
_events_loop: asyncio.AbstractEventLoop | None = None


def start_events() -> None:
    """libvirt's events, once per process, on an asyncio loop of their own through libvirtaio
    (libvirt takes one event implementation for the process's life, and the app's loop, or
    each test's, comes and goes). Callbacks are handed to the session's loop from there."""
    global _events_loop
    with _events_lock:
        if _events_loop is not None:
            return
        import libvirtaio
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            libvirtaio.virEventRegisterAsyncIOImpl(loop=loop)
            ready.set()
            loop.run_forever()
        threading.Thread(target=run, name="libvirt-events", daemon=True).start()
        ready.wait(5)
        _events_loop = loop


def said(e: BaseException) -> str:
    """libvirt's own message for an error, one line."""
    getter = getattr(e, "get_error_message", None)
    text = getter() if callable(getter) else None
    return clean(str(text or e), MAX_TEXT)


def active(dom: Any) -> bool:
    try:
        return bool(dom.isActive())
    except Exception:
        return False


def job_or_none(dom: Any) -> dict[str, Any]:
    try:
        return dict(dom.jobStats())
    except Exception:
        return {}


async def list_domains(uri: str) -> list[tuple[str, str, str]]:
    """(name, state, job) of every domain of a connection, those with a running job first."""
    lib = libvirt_module()

    def read() -> list[tuple[str, str, str]]:
        try:
            conn = lib.openReadOnly(uri)
        except lib.libvirtError as e:
            raise EndpointError(f"{uri}: {said(e)}", Unreachable.REFUSED) from None
        try:
            rows = []
            for dom in conn.listAllDomains(0):
                state, reason = dom.state()
                job = job_or_none(dom) if dom.isActive() else {}
                kind = job.get("type", lv.JOB_NONE)
                running = kind in (lv.JOB_BOUNDED, lv.JOB_UNBOUNDED)
                status = lv.status_of(job, (int(state), int(reason)), None) if running else ""
                rows.append((clean(dom.name(), 200), _STATES.get(int(state), "other"), status))
            return sorted(rows, key=lambda r: (r[2] == "", r[1] != "running", r[0]))
        finally:
            conn.close()
    return await off_loop(read)


_STATES = {0: "no state", 1: "running", 2: "blocked", 3: "paused", 4: "shutting down",
           5: "shut off", 6: "crashed", 7: "suspended"}


def off_loop(call: Any, *args: Any) -> asyncio.Future[Any]:
    """Run a libvirt call in a thread of its own, its result as a future: never on the loop
    (a call waits on a remote host), never holding up the app's exit (asyncio waits for
    its default executor's threads: a hung host, or a migrate call that lasts the whole
    migration, would keep the app from ending)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        try:
            result, error = call(*args), None
        except BaseException as e:  # handed to the loop, raised there
            result, error = None, e
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)
    threading.Thread(target=run, name="libvirt-call", daemon=True).start()
    return future
