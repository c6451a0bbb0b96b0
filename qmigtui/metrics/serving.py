"""Serving the exposition over HTTP. prometheus_client renders it (every family, every VM) just
ahead of the scrape that reads it, so a scrape copies bytes and never waits for a walk over
fifty VMs; what it reads is at most MAX_AGE seconds older than the snapshots."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client.exposition import ThreadingWSGIServer, choose_encoder

MAX_AGE = 1.0  # seconds: a rendering this young is served even if a snapshot came since
LEAD_S = 0.25  # seconds (at least) between a rendering ahead and the scrape expected
FORGET = 3  # a scraper silent for this many of its intervals is not rendered for any more

Encoder = Callable[[Any], bytes]


@dataclass
class Rendering:
    body: bytes
    at: float  # monotonic time its rendering started (its data is no older)
    version: int  # the exposition's version it holds
    ahead: bool  # rendered ahead of a scrape (else for one, which then read it)
    gzipped: bytes | None = None


class Exposition:
    """The registry's exposition, rendered once per scrape, ahead of it where the scrapes come
    at a steady pace (as Prometheus' do), in each format a scraper asked for."""

    def __init__(self, registry: Any, clock: Callable[[], float] = time.monotonic):
        self._registry = registry
        self._clock = clock
        self._cond = threading.Condition()
        self._version = 0
        self._cache: dict[str, Rendering] = {}
        self._encoders: dict[str, Encoder] = {}
        self._scrapes: dict[str, deque[float]] = {}  # content type -> its last scrapes' times
        self._cost = 0.0  # seconds the last rendering took
        self.rendered_at_scrape = 0  # renderings a scrape had to wait for (for tests and benches)
        self._closed = False
        self._thread = threading.Thread(target=self._ahead, name="qmigtui-metrics", daemon=True)
        self._thread.start()

    def changed(self) -> None:
        """Something exported changed (a snapshot, the ledger)."""
        with self._cond:
            self._version += 1

    def body(self, accept: str, gzip_ok: bool = False) -> tuple[bytes, str]:
        """The bytes for one scrape and their content type (gzipped when ``gzip_ok``)."""
        encoder, ctype = choose_encoder(accept)
        now = self._clock()
        with self._cond:
            self._encoders[ctype] = encoder
            self._scrapes.setdefault(ctype, deque(maxlen=2)).append(now)
            self._cond.notify()
            r = self._cache.get(ctype)
            fresh = r is not None and (r.version == self._version or (
                r.ahead and now - r.at <= max(MAX_AGE, 2 * self._lead())))
        if r is None or not fresh:
            self.rendered_at_scrape += 1
            r = self._render(ctype, encoder, ahead=False)
        if not gzip_ok:
            return r.body, ctype
        if r.gzipped is None:  # two scrapes at once may both compress: the same bytes
            r.gzipped = gzip.compress(r.body, 1)  # a third of level 6's time, a tenth larger
        return r.gzipped, ctype

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _render(self, ctype: str, encoder: Encoder, ahead: bool) -> Rendering:
        with self._cond:
            version = self._version
        start = self._clock()
        r = Rendering(encoder(self._registry), start, version, ahead)
        with self._cond:
            self._cost = self._clock() - start
            if ctype not in self._cache or self._cache[ctype].at <= start:
                self._cache[ctype] = r
        return r

    def _ahead(self) -> None:
        """Render each format shortly before its next scrape is due."""
        while True:
            with self._cond:
                if self._closed:
                    return
                due = self._next_due()
                if due is None:
                    self._cond.wait()
                    continue
                when, ctype = due
                if (wait := when - self._clock()) > 0:
                    self._cond.wait(wait)  # woken early by a scrape: worked out again
                    continue
                encoder, r = self._encoders[ctype], self._cache[ctype]
                if r.version == self._version:  # nothing new: what is there is as good
                    r.at, r.ahead = self._clock(), True
                    continue
            self._render(ctype, encoder, ahead=True)

    def _lead(self) -> float:
        return max(LEAD_S, 3 * self._cost)

    def _next_due(self) -> tuple[float, str] | None:
        """When to render ahead, and which format: the last scrape plus the gap before it,
        less a lead; None while nothing is due (no pace yet, already rendered, or the scraper
        went away)."""
        now, lead = self._clock(), self._lead()
        due: list[tuple[float, str]] = []
        for ctype, times in self._scrapes.items():
            if len(times) < 2 or (gap := times[-1] - times[-2]) <= lead:
                continue
            when = times[-1] + gap - lead
            r = self._cache.get(ctype)
            if now > times[-1] + FORGET * gap or r is None or r.at >= when:
                continue
            due.append((when, ctype))
        return min(due) if due else None


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the base names it format
        """No line on stderr per request."""


def serve(exposition: Exposition, host: str, port: int) -> ThreadingWSGIServer:
    """Serve ``exposition`` on HOST:PORT (IPv4 or IPv6) in a thread of its own."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/favicon.ico":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b""]
        gz = "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "")
        body, ctype = exposition.body(environ.get("HTTP_ACCEPT", ""), gz)
        start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))]
                       + ([("Content-Encoding", "gzip")] if gz else []))
        return [body]

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("Server", (ThreadingWSGIServer,), {"address_family": family})
    httpd: ThreadingWSGIServer = make_server(host, port, app, server_class, handler_class=_Quiet)
    threading.Thread(target=httpd.serve_forever, name="qmigtui-metrics-http", daemon=True).start()
    return httpd
