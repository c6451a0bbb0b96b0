"""A real Prometheus (Debian's, started here on loopback with a 1 s scrape interval) scrapes
the exporter while a real lab migration runs; its HTTP API then shows what the exporter
said: what is left falling, the status reaching completed, the finished migration's length
kept."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qmigtui.lab.pair import LabConfig
from qmigtui.metrics.exporter import Exporter
from tests.conftest import require
from tests.helpers import wait_for
from tests.plain_pair import free_port

MiB = 1 << 20
CONVERGES = LabConfig(mem_mib=128, working_set_mib=8, dirty_rate_mib_s=2, bandwidth=12 * MiB)


@contextlib.contextmanager
def prometheus(target: str, directory: Path) -> Iterator[str]:
    """A Prometheus scraping ``target`` every second; its address; stopped at the end."""
    binary = shutil.which("prometheus")
    require(binary is not None, "prometheus is not installed (apt-get install prometheus)")
    assert binary is not None
    config = directory / "prometheus.yml"
    config.write_text(json.dumps({  # YAML is a superset of JSON
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "qmigtui", "static_configs": [{"targets": [target]}]}]}))
    address = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={directory / 'data'}",
                             f"--web.listen-address={address}"],
                            stdout=subprocess.DEVNULL, stderr=(directory / "prometheus.log").open("w"),
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), \
                    urllib.request.urlopen(f"http://{address}/-/ready", timeout=2) as r:
                if r.status == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("prometheus did not start: "
                                     + (directory / "prometheus.log").read_text()[-2000:])
            time.sleep(0.2)
        yield address
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _api(address: str, path: str, **params: Any) -> Any:
    url = f"http://{address}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    return body["data"]["result"]


@pytest.mark.once  # Prometheus' side; what QEMU reports is tried on every QEMU elsewhere
async def test_prometheus_scrapes_a_lab_migration_to_its_end(make_rig, tmp_path):
    rig = await make_rig(CONVERGES)
    exporter = Exporter()
    rig.watcher.subscribe(lambda snap: exporter.see("lab-1", snap, {"source": "lab"}))
    host, port = exporter.serve("127.0.0.1:0")
    try:
        with prometheus(f"{host}:{port}", tmp_path) as address:
            up = lambda: _api(address, "query", query='up{job="qmigtui"}')  # noqa: E731
            await wait_for(lambda: any(r["value"][1] == "1" for r in up()), 30, "a first scrape")
            started = time.time()
            await rig.controller.start_migration()
            await wait_for(lambda: rig.watcher.snapshot.source.status == "completed", 120, "completed")
            await asyncio.sleep(3)  # a few scrapes more
            left = _api(address, "query_range", query='qmigtui_migration_data_remaining_bytes'
                        '{vm="lab-1",side="source"}', start=started - 2, end=time.time(), step="1")
            values = [float(v) for _, v in left[0]["values"]]
            assert len(values) >= 4 and values[0] > values[-1] and max(values) > 4 * MiB, values
            done = _api(address, "query", query='qmigtui_migration_status{vm="lab-1",side="source",'
                        'qmigtui_migration_status="completed"}')
            assert done and done[0]["value"][1] == "1", done
            kept = _api(address, "query", query='qmigtui_migration_last_duration_seconds{vm="lab-1"}')
            assert kept and kept[0]["metric"]["outcome"] == "completed" and float(kept[0]["value"][1]) > 0
            total = _api(address, "query", query='qmigtui_migrations_total{vm="lab-1",outcome="completed"}')
            assert total and total[0]["value"][1] == "1", total
    finally:
        exporter.close()
