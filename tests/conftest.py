"""Shared fixtures: real QEMU availability (fail in CI, skip elsewhere) and lab rigs."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from qmigtui.lab.binary import default_qemu, qemu_available
from qmigtui.lab.pair import LabConfig

QEMU_FIXTURES = {"need_qemu", "make_rig", "lab_app", "need_linux_guest", "bare_qemu", "libvirt_hosts"}

QAPI_DATA = Path(__file__).resolve().parent / "data" / "migration-qapi.json"


def migration_qapi() -> dict[str, Any]:
    """migration.json's definitions and reply examples, kept in the repository as data
    (scripts/snapshot_qapi.py makes the file from the schema)."""
    data: dict[str, Any] = json.loads(QAPI_DATA.read_text(encoding="utf-8"))
    return data


def require(condition: bool, why: str) -> None:
    """Skip when a real part is missing here; in CI (CI=true) fail instead."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (CI must have it)")
    pytest.skip(why)


def pytest_report_header() -> str:
    """Which QEMU this run drives (the make test output says so for each part)."""
    binary = default_qemu()
    try:
        version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                                 timeout=10).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        version = "not runnable here"
    return f"QEMU: {binary}: {version}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that drive a real QEMU, so a run can pick just them (-m qemu). The
    libvirt tests run once, in the whole-suite pass: the host's libvirt with the QEMU its
    Debian ships beside it (libvirt 9.0 cannot migrate QEMU 11.1: the destination fails at
    "Failed to peek at channel"; no Debian pairs them)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if QEMU_FIXTURES & fixtures:
            item.add_marker(pytest.mark.qemu)
        if "libvirt_hosts" in fixtures:
            item.add_marker(pytest.mark.once)


@pytest.fixture
def need_qemu() -> None:
    require(qemu_available(), f"{default_qemu()} is not installed")


@pytest.fixture
def bare_qemu(need_qemu: None, tmp_path: Path) -> Iterator[str]:
    """A real QEMU with no machine, only its QMP monitor on a unix socket; yields the path."""
    import time

    from qmigtui.lab.binary import firmware_dirs
    path = tmp_path / "bare-qmp.sock"
    qemu = subprocess.Popen([default_qemu(), *(a for d in firmware_dirs(default_qemu()) for a in ("-L", d)),
                             "-machine", "none", "-nodefaults", "-display", "none",
                             "-qmp", f"unix:{path},server=on,wait=off"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield str(path)
    finally:
        qemu.kill()
        qemu.wait()


@pytest.fixture
def need_linux_guest(need_qemu: None) -> None:
    """The lab's Linux guest: cached, or buildable here from Debian's packages."""
    from qmigtui.lab import linux_image
    try:
        linux_image.prepare()
    except linux_image.ImageError as e:
        require(False, f"the Linux guest cannot be built here: {e}")


@pytest.fixture
async def make_rig(need_qemu: None) -> AsyncIterator[Callable[..., Any]]:
    """Start lab rigs; every one is closed (QEMUs stopped) when the test ends."""
    from qmigtui.control.rig import Rig
    rigs: list[Rig] = []

    async def make(config: LabConfig | None = None, **kw: Any) -> Rig:
        rig = await Rig.start(config or LabConfig(mem_mib=128, working_set_mib=8,
                                                  dirty_rate_mib_s=2), **kw)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        await rig.close()


@pytest.fixture
def libvirt_hosts(need_qemu: None, tmp_path: Path) -> Iterator[list[Any]]:
    """Two private libvirt daemons (two "hosts", see tests/libvirtd.py), stopped with every
    domain and QEMU of theirs when the test ends."""
    from tests import libvirtd
    require(libvirtd.missing() is None, str(libvirtd.missing()))
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as pool:  # both at once: each waits on its own daemon
        starting = [pool.submit(libvirtd.Libvirtd.start, tmp_path / name) for name in ("host1", "host2")]
        hosts = [f.result() for f in starting if f.exception() is None]
        try:
            for f in starting:
                f.result()  # the first failure, after both were waited for
            yield hosts
        finally:
            list(pool.map(lambda host: host.stop(), hosts))


def lab_qemu_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-f", "qmigtui-lab-"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.fixture(scope="session", autouse=True)
def no_qemu_left_behind() -> Any:
    """After the whole suite, no lab QEMU started by it may still run."""
    before = set(lab_qemu_pids())
    yield
    left = set(lab_qemu_pids()) - before
    assert not left, f"lab processes left running: {sorted(left)}"


@pytest.fixture(scope="session", autouse=True)
def state_dir_of_our_own(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The default audit log goes under XDG_STATE_HOME: keep the suite's out of the user's."""
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    yield
    if old is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = old
