"""libvirt's job statistics and domain states in QMP's words (plain data, no libvirt)."""

from __future__ import annotations

from qmigtui.qmp import libvirt_stats as lv
from qmigtui.qmp.endpoint import parse_endpoint
from qmigtui.qmp.schema import Schema

RUNNING_JOB = {"type": lv.JOB_UNBOUNDED, "time_elapsed": 2001, "downtime": 300, "setup_time": 1,
               "memory_total": 134610944, "memory_processed": 15144127, "memory_remaining": 117534720,
               "memory_bps": 8413380, "memory_constant": 480, "memory_normal": 3689,
               "memory_normal_bytes": 15110144, "memory_dirty_rate": 12, "memory_iteration": 1,
               "memory_postcopy_requests": 0, "memory_page_size": 4096}


def test_a_running_job_reads_as_query_migrate():
    info = lv.migration_info(RUNNING_JOB, "active")
    assert info["status"] == "active" and info["total-time"] == 2001
    assert info["expected-downtime"] == 300 and "downtime" not in info
    ram = info["ram"]
    assert ram["transferred"] == 15144127 and ram["remaining"] == 117534720
    assert ram["duplicate"] == 480 and ram["dirty-sync-count"] == 1
    assert abs(ram["mbps"] - 67.307) < 0.01


def test_an_ended_job_gives_its_real_downtime_and_reason():
    info = lv.migration_info(RUNNING_JOB | {"type": lv.JOB_FAILED, "downtime": 4, "errmsg": "boom"},
                             "failed")
    assert info["downtime"] == 4 and "expected-downtime" not in info and info["error-desc"] == "boom"
    assert lv.migration_info({}, "none") == {"status": "none"}


def test_status_from_job_domain_state_and_qemus_own_event():
    running = (lv.RUNNING, 0)
    assert lv.status_of({"type": lv.JOB_NONE}, running, None) == "none"
    assert lv.status_of({"type": lv.JOB_UNBOUNDED}, running, None) == "setup", \
        "libvirt's job starts before QEMU's migration"
    assert lv.status_of(RUNNING_JOB, running, None) == "active"
    assert lv.status_of(RUNNING_JOB, running, "pre-switchover") == "pre-switchover"
    assert lv.status_of(RUNNING_JOB, (lv.RUNNING, lv.RUNNING_POSTCOPY), None) == "postcopy-active"
    assert lv.status_of(RUNNING_JOB, (lv.PAUSED, lv.PAUSED_POSTCOPY_FAILED), None) == "postcopy-paused"
    assert lv.status_of({}, (lv.RUNNING, lv.RUNNING_POSTCOPY_FAILED), None) == "postcopy-paused"
    assert lv.status_of({"type": lv.JOB_CANCELLED}, running, "active") == "cancelled"
    assert lv.status_of({}, None, "completed") == "completed"


def test_a_destination_reads_its_status_from_its_state_or_qemus_event():
    assert lv.incoming_status((lv.RUNNING, lv.RUNNING_POSTCOPY_FAILED), None) == "postcopy-paused"
    assert lv.incoming_status((lv.RUNNING, lv.RUNNING_POSTCOPY), None) == "postcopy-active"
    assert lv.incoming_status((lv.PAUSED, 0), None) == "active"
    assert lv.incoming_status((lv.RUNNING, lv.RUNNING_POSTCOPY), "postcopy-recover") == "postcopy-recover"


def test_parameters_uris_and_the_schema_of_what_libvirt_serves():
    assert lv.parameters(16, 300, None) == {"max-bandwidth": 16 << 20, "downtime-limit": 300}
    assert lv.libvirt_migrate_uri("tcp:10.0.0.2:49152") == "tcp://10.0.0.2:49152"
    assert lv.libvirt_migrate_uri("tcp:[::1]:49152") == "tcp://[::1]:49152"
    schema = Schema.from_introspection(lv.schema())
    assert {"migrate", "migrate_cancel", "migrate-start-postcopy", "migrate-pause"} <= set(schema.commands)
    assert set(schema.parameters) == {"max-bandwidth", "downtime-limit", "max-postcopy-bandwidth"}
    assert "migrate-set-capabilities" not in schema.commands


def test_libvirt_endpoints_parse_and_print_back():
    ep = parse_endpoint("libvirt:qemu+ssh://root@h2/system#web1")
    assert (ep.kind, ep.host, ep.path) == ("libvirt", "qemu+ssh://root@h2/system", "web1")
    assert str(ep) == "libvirt:qemu+ssh://root@h2/system#web1" and ep.warning() is None
    for bad in ("libvirt:qemu:///system", "libvirt:#web1"):
        try:
            parse_endpoint(bad)
        except ValueError as e:
            assert "libvirt:URI#DOMAIN" in str(e)
        else:
            raise AssertionError(bad)
