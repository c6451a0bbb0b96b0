"""The lab's real Linux guest: built from Debian packages, booted under TCG, running a named
workload that dirties memory as real guests do, migrated between two real QEMUs."""

from __future__ import annotations

import gzip
import io
import stat
import subprocess
import sys

from qmigtui.control import measure
from qmigtui.control.auto_measure import AutoMeasure
from qmigtui.lab.cpio import CpioWriter
from qmigtui.lab.linux_image import READY
from qmigtui.lab.pair import LabConfig
from qmigtui.lab.workloads import WORKLOADS
from tests.helpers import wait_for

MiB = 1 << 20


def read_cpio(data: bytes) -> dict[str, tuple[int, bytes]]:
    """name -> (mode, data) of a newc archive, checking its headers and 4-byte alignment."""
    out, at = {}, 0
    while True:
        assert data[at:at + 6] == b"070701", at
        fields = [int(data[at + 6 + 8 * i: at + 14 + 8 * i], 16) for i in range(13)]
        size, namesize = fields[6], fields[11]
        name = data[at + 110: at + 110 + namesize - 1].decode()
        at = (at + 110 + namesize + 3) & ~3
        body = data[at:at + size]
        at = (at + size + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out[name] = (fields[1], body)


def test_the_initramfs_writer_makes_what_the_kernel_unpacks():
    raw = io.BytesIO()
    w = CpioWriter(raw)
    w.file("usr/bin/tool", b"#!/bin/sh\n", 0o755)
    w.symlink("bin/sh", "busybox")
    w.close()
    entries = read_cpio(raw.getvalue())
    assert list(entries) == ["usr", "usr/bin", "usr/bin/tool", "bin", "bin/sh"]  # parents first
    assert stat.S_ISDIR(entries["usr"][0])
    assert entries["usr/bin/tool"] == (stat.S_IFREG | 0o755, b"#!/bin/sh\n")
    assert stat.S_ISLNK(entries["bin/sh"][0]) and entries["bin/sh"][1] == b"busybox"


def test_each_workload_has_a_script_that_says_when_it_is_ready():
    for w in WORKLOADS.values():
        assert READY in w.script and w.what


def test_an_unknown_workload_is_one_line_listing_the_known_ones():
    proc = subprocess.run([sys.executable, "-m", "qmigtui", "lab", "--guest", "linux", "--workload",
                           "nope", "--headless"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "--workload nope: not one of writer, fast-writer" in proc.stderr
    listed = subprocess.run([sys.executable, "-m", "qmigtui", "lab", "--list"], capture_output=True,
                            text=True, timeout=30).stdout
    assert all(f"  {name} " in listed for name in WORKLOADS)


async def test_a_linux_guest_runs_its_workload_and_migrates_to_completion(need_linux_guest, make_rig):
    rig = await make_rig(LabConfig(mem_mib=512, guest="linux", workload="writer", bandwidth=64 * MiB))
    console = rig.lab.console("source")
    assert "qmigtui-guest: up after" in console and READY in console
    initrd = rig.lab.dir / "initrd.img"
    with gzip.open(initrd) as f:  # the cached base archive, then the one holding the workload
        base = f.read()
    assert "init" in read_cpio(base) and "usr/bin/stress-ng" in read_cpio(base)
    measured = await measure.dirty_rate(rig.controller, 2)
    assert 4 * MiB < measured.bytes_per_s < 40 * MiB  # stress-ng memrate at its 12 MB/s cap
    rig.watcher.measurements.clear()  # the app's own measurements are what is tested below
    auto = AutoMeasure(rig.controller)
    etas: list[float] = []
    rig.watcher.subscribe(lambda snap: etas.append(snap.forecast.eta) if snap.forecast
                          and snap.forecast.eta is not None and snap.source.status == "active" else None)
    try:
        await rig.controller.start_migration()
        await wait_for(lambda: rig.watcher.snapshot.source.status == "completed", 120, "completed")
    finally:
        await auto.close()
    assert auto.scans == 1 and auto.taken == 1  # measured once, at the start, by itself
    (zero,) = rig.watcher.zero_shares
    assert 0.2 < zero.share < 0.9 and zero.samples == 256  # the guest's unused RAM is zero pages
    assert etas  # an ETA was shown while the precopy ran
    info = rig.watcher.snapshot.source.info
    assert info.number("ram.normal") * 4096 > 100 * MiB  # the workload's pages, not zero pages


async def test_a_guest_rewriting_its_hot_set_is_never_called_converging(need_linux_guest, make_rig):
    """stress-ng rewrites 64 MiB as fast as it can over a 32 MiB/s link: QEMU's dirty rate
    follows the bandwidth; the app measures the real rate and never promises convergence."""
    rig = await make_rig(LabConfig(mem_mib=512, guest="linux", workload="hot-rewrite",
                                   bandwidth=32 * MiB))
    auto = AutoMeasure(rig.controller)
    verdicts: list[str] = []
    rig.watcher.subscribe(lambda snap: verdicts.append(str(snap.forecast.verdict))
                          if snap.forecast and snap.source.status == "active" else None)
    try:
        await rig.controller.start_migration()
        await wait_for(lambda: "not-converging" in verdicts or "stalled" in verdicts, 60,
                       "not converging")
        assert auto.taken == 1 and rig.watcher.measurements[-1].bytes_per_s > 32 * MiB
        await rig.controller.cancel()
    finally:
        await auto.close()
    assert "converging" not in verdicts and "estimating" not in verdicts, verdicts
