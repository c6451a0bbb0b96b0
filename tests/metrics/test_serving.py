"""The exposition's rendering ahead of steady scrapes (no QEMU, no HTTP: a counting collector)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily

from qmigtui.metrics.serving import MAX_AGE, Exposition


class Counting:
    """A collector whose one gauge says how many changes it has seen."""

    def __init__(self) -> None:
        self.value, self.collected = 0, 0

    def collect(self):  # type: ignore[no-untyped-def]
        self.collected += 1
        yield GaugeMetricFamily("changes", "Changes seen.", value=self.value)


def _exposition() -> tuple[Exposition, Counting]:
    registry = CollectorRegistry(auto_describe=False)
    counting = Counting()
    registry.register(counting)  # type: ignore[arg-type]
    return Exposition(registry), counting


def _value(body: bytes) -> float:
    return float(next(line for line in body.decode().splitlines() if line.startswith("changes ")).split()[1])


def test_steady_scrapes_read_a_rendering_made_ahead_of_them_and_never_stale_by_more_than_max_age():
    exposition, counting = _exposition()
    try:
        read = []
        for n in range(6):
            counting.value = n  # the data changes between every two scrapes
            exposition.changed()
            asked = time.monotonic()
            body, ctype = exposition.body("")
            read.append((time.monotonic() - asked, _value(body)))
            time.sleep(0.5)
        assert ctype.startswith("text/plain")
        # the first two set the pace; every later one was rendered ahead, with data at most one
        # change old (what changed since the rendering ahead waits for the next scrape)
        assert exposition.rendered_at_scrape == 2, read
        assert all(value >= n - 1 for n, (_, value) in enumerate(read)), read
        assert counting.collected == 6, "one rendering a scrape, not more"
    finally:
        exposition.close()


def test_a_scrape_after_a_change_reads_it_when_nothing_was_rendered_ahead():
    exposition, counting = _exposition()
    try:
        assert _value(exposition.body("")[0]) == 0
        counting.value = 1
        exposition.changed()
        assert _value(exposition.body("")[0]) == 1  # a second later or not: no pace yet
        assert _value(exposition.body("")[0]) == 1 and counting.collected == 2, "unchanged: reused"
        assert MAX_AGE <= 1.0
    finally:
        exposition.close()


def test_each_format_is_rendered_for_itself_and_gzipped_on_request():
    exposition, _ = _exposition()
    try:
        text, ctype = exposition.body("")
        om, om_type = exposition.body("application/openmetrics-text; version=1.0.0")
        assert ctype != om_type and om.endswith(b"# EOF\n") and not text.endswith(b"# EOF\n")
        import gzip
        zipped, _ = exposition.body("", gzip_ok=True)
        assert gzip.decompress(zipped) == text
    finally:
        exposition.close()
