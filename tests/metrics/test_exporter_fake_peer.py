"""The exporter against fake QMP peers (test doubles, not QEMU; the real scrape of a lab
migration by a real Prometheus is in test_prometheus_on_lab.py): the exposition passes
``promtool check metrics``, says what the snapshot says, keeps a finished migration, sends
nothing that changes a VM, and bad input is one line."""

from __future__ import annotations

import asyncio
import copy
import shutil
import subprocess
import sys
import urllib.request
from typing import Any

from qmigtui.cli.fleet import FleetOptions, fleet_opener
from qmigtui.desk.fleet import Fleet, Source
from qmigtui.metrics.exporter import Exporter
from qmigtui.metrics.ledger import Ledger
from qmigtui.model.commands import is_query
from tests.conftest import require
from tests.fakeqmp import FakeQmp, qemu_schema, watcher_reply
from tests.helpers import wait_for

MiB = 1 << 20


def schema_with_fault_latency() -> list[Any]:
    """QEMU 7.2's schema with 10.1's postcopy-latency and postcopy-latency-dist in MigrationInfo
    (members are typed by the live schema: the fake's must have them)."""
    schema = copy.deepcopy(qemu_schema())
    by_name = {e["name"]: e for e in schema}
    info = by_name[by_name["query-migrate"]["ret-type"]]
    ints = next((e for e in schema if e["meta-type"] == "array" and e["element-type"] == "int"), None)
    if ints is None:
        ints = {"name": "[int]", "meta-type": "array", "element-type": "int"}
        schema.append(ints)
    info["members"] += [{"name": "postcopy-latency", "type": "int", "default": None},
                        {"name": "postcopy-latency-dist", "type": ints["name"], "default": None}]
    return schema


class Migrating:
    """A precopy that runs until ``status`` is set otherwise; a postcopy fault histogram too."""

    def __init__(self) -> None:
        self.status = "active"
        self.left = 300 * MiB
        self.schema = schema_with_fault_latency()

    def __call__(self, cmd: str, args: dict[str, Any]) -> Any:
        if cmd == "query-qmp-schema":
            return {"return": self.schema}
        if (known := watcher_reply(cmd)) is not None:
            return known
        if cmd == "query-migrate":
            self.left = max(0, self.left - 4 * MiB)
            return {"return": {"status": self.status, "total-time": 12_000, "setup-time": 7,
                               "downtime": 42, "expected-downtime": 250,
                               "postcopy-latency": 250_000, "postcopy-latency-dist": [0, 3, 5, 1],
                               "ram": {"transferred": 512 * MiB - self.left, "remaining": self.left,
                                       "total": 512 * MiB, "mbps": 67.1, "dirty-sync-count": 2,
                                       "page-size": 4096, "duplicate": 0, "normal": 0,
                                       "dirty-pages-rate": 100}}}
        return {"return": {}}


def _scrape(address: tuple[str, int]) -> str:
    with urllib.request.urlopen(f"http://{address[0]}:{address[1]}/metrics", timeout=5) as r:
        return r.read().decode()


async def test_the_exposition_is_valid_and_keeps_a_finished_migration(tmp_path):
    require(shutil.which("promtool") is not None, "promtool is not installed (apt-get install prometheus)")
    peer = Migrating()
    fake = await FakeQmp(str(tmp_path / "web-1.qmp"), peer).start()
    fleet = Fleet.of([Source("web-1", fake.path), Source("gone-2", str(tmp_path / "none.qmp"))],
                     fleet_opener(FleetOptions([], read_only=True, no_audit=True), 0.2, None))
    exporter = Exporter(Ledger(hold_s=600))
    exporter.follow(fleet)
    address = exporter.serve("127.0.0.1:0")
    opening = asyncio.create_task(fleet.open_all(retry=None))
    try:
        await wait_for(lambda: fleet.members[0].desk is not None  # typed by its live schema
                       and fleet.members[0].desk.snapshot.source.info is not None
                       and fleet.members[0].desk.snapshot.source.info.numbers("postcopy-latency-dist"),
                       10, "watched")
        text = await asyncio.to_thread(_scrape, address)
        checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                                 text=True, timeout=30)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert 'qmigtui_migration_status="active",side="source",vm="web-1"} 1.0' in text
        gone = str(tmp_path / "none.qmp")
        assert f'qmigtui_endpoint_up{{endpoint="{gone}",side="source",vm="gone-2"}} 0.0' in text
        assert "qmigtui_migration_data_remaining_bytes{" in text
        assert 'qmigtui_migration_postcopy_fault_latency_seconds_bucket{' in text
        assert 'le="+Inf",side="source",vm="web-1"} 9.0' in text
        assert "qmigtui_migration_verdict{" in text and "qmigtui_migrations_total{" not in text
        peer.status = "completed"
        await wait_for(lambda: fleet.members[0].desk.snapshot.source.status == "completed", 10, "over")
        text = await asyncio.to_thread(_scrape, address)
        assert 'qmigtui_migrations_total{outcome="completed",vm="web-1"} 1.0' in text
        assert 'qmigtui_migration_last_duration_seconds{outcome="completed",vm="web-1"} 12.0' in text
        assert 'qmigtui_migration_last_downtime_seconds{outcome="completed",vm="web-1"} 0.042' in text
    finally:
        opening.cancel()
        exporter.close()
        await fleet.close()
        await fake.stop()
    changing = [c for c in fake.received if not is_query(c) and c != "qmp_capabilities"]
    assert changing == [], changing  # read-only: no events capability, no measurement


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    for args, words in ((["x.qmp", "--listen", "nowhere"], "expected ADDRESS:PORT"),
                        ([str(tmp_path / "*.qmp")], "no socket matches"),
                        (["x.qmp", "--hold", "-1"], "expected 0 or more seconds")):
        done = subprocess.run([sys.executable, "-m", "qmigtui", "exporter", *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert words in done.stderr, done.stderr


async def test_metrics_on_the_app_export_its_desk_and_a_bad_address_is_one_line(tmp_path):
    from qmigtui.cli.exporter import metered, start_metrics
    from qmigtui.desk.opening import open_endpoints
    from qmigtui.ui.app import MigrationApp
    fake = await FakeQmp(str(tmp_path / "db-1.qmp"), Migrating()).start()
    exporter = start_metrics("127.0.0.1:0")
    assert exporter is not None and start_metrics(None) is None
    try:
        opener = metered(lambda: open_endpoints([("source", fake.path)], 0.2, False, no_audit=True),
                         exporter, "db-1", {"source": fake.path})
        app = MigrationApp(opener)
        async with app.run_test(size=(120, 40)):
            await wait_for(lambda: app.snapshot is not None and app.snapshot.source.info is not None,
                           10, "watched")
            address = exporter._server.server_address
            text = await asyncio.to_thread(_scrape, address)
            assert 'qmigtui_migration_status="active",side="source",vm="db-1"} 1.0' in text
            taken = f"127.0.0.1:{address[1]}"
            for listen, words in ((taken, "cannot serve there"), ("nowhere", "expected ADDRESS:PORT")):
                try:
                    start_metrics(listen)
                    raise AssertionError(f"{listen} was taken")
                except ValueError as e:
                    assert words in str(e) and "\n" not in str(e)
            await app.action_quit()
    finally:
        exporter.close()
        await fake.stop()
