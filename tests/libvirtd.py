"""Private libvirt daemons for the libvirt tests: each one a "host" of its own on this machine.

The recipe (libvirt 9.0, no systemd needed): Debian's libvirt-daemon and
libvirt-daemon-driver-qemu installed (make libvirt), the libvirt-qemu user and group
present, and each daemon started in its own mount namespace with bind mounts over
/etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt, a
random host_uuid (two daemons with one uuid refuse to migrate between them), no
virtlogd (stdio_handler "file"), no security driver, cgroups or namespaces. The client
reaches it as qemu+unix:///system?socket=DIR/run/libvirt-sock. A new daemon probes its
QEMU for about 8 s; its capability cache, copied from the first daemon, makes that 0.1 s.
libvirt does not stop its QEMUs when it exits: ``stop`` destroys every domain first,
then kills whatever QEMU pid file is left. Domains say <acpi/>: without it libvirt 9.0
passes -no-acpi, which QEMU 10.0 no longer takes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from qmigtui.lab.binary import default_qemu
from qmigtui.lab.guest import write_image
from qmigtui.qmp import children

ROOT = Path(__file__).resolve().parents[1]
CAPS_CACHE = ROOT / ".cache" / "libvirt-caps"  # shared by every daemon of every run here
BINDS = {"etc": "/etc/libvirt", "run": "/run/libvirt", "lib": "/var/lib/libvirt",
         "log": "/var/log/libvirt", "cache": "/var/cache/libvirt"}

LIBVIRTD_CONF = """\
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "{uuid}"
log_outputs = "3:file:{dir}/libvirtd.log"
"""
QEMU_CONF = """\
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
stdio_handler = "file"
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
"""


def missing() -> str | None:
    """Why private daemons cannot run here (None: they can)."""
    if shutil.which("libvirtd") is None or shutil.which("unshare") is None:
        return "libvirtd is not installed (make libvirt)"
    if os.geteuid() != 0:
        return "private libvirt daemons need root (mount namespaces)"
    try:
        import libvirt  # noqa: F401
    except ImportError:
        return "libvirt-python is not installed (pip install '.[libvirt]')"
    return None


def emulator() -> str:
    """The QEMU the daemons start: the one under test (the system's, or the wrapper of one
    unpacked with its closure, scripts/qemu_root.py, which brings its own firmware and
    modules: libvirt passes no -L and clears QEMU_MODULE_DIR from its own environment)."""
    binary = default_qemu()
    return shutil.which(binary) or binary


@dataclass
class Libvirtd:
    """One private daemon (a "host")."""

    dir: Path
    proc: subprocess.Popen[bytes]

    @property
    def uri(self) -> str:
        return f"qemu+unix:///system?socket={self.dir / 'run' / 'libvirt-sock'}"

    @classmethod
    def start(cls, directory: Path, timeout: float = 60.0) -> Libvirtd:
        for name in BINDS:
            (directory / name).mkdir(parents=True, exist_ok=True)
        for target in BINDS.values():
            Path(target).mkdir(parents=True, exist_ok=True)
        (directory / "etc" / "libvirtd.conf").write_text(
            LIBVIRTD_CONF.format(uuid=uuid.uuid4(), dir=directory))
        (directory / "etc" / "qemu.conf").write_text(QEMU_CONF)
        caps = directory / "cache" / "qemu" / "capabilities"
        if CAPS_CACHE.is_dir():
            shutil.copytree(CAPS_CACHE, caps, dirs_exist_ok=True)
        mounts = " && ".join(f"mount --bind {directory / name} {target}" for name, target in BINDS.items())
        script = f"{mounts} && exec libvirtd -f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid"
        log = open(directory / "daemon.out", "wb")  # noqa: SIM115 - handed to the child
        try:
            proc = children.spawn(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                                  stdout=log, stderr=log)
        finally:
            log.close()
        daemon = cls(directory, proc)
        try:
            daemon._wait_ready(timeout)
        except BaseException:
            daemon.stop()
            raise
        if caps.is_dir():  # what this one probed (another QEMU, say) is there for the next
            with contextlib.suppress(OSError):
                shutil.copytree(caps, CAPS_CACHE, dirs_exist_ok=True)
        return daemon

    def virsh(self, *args: str, timeout: float = 60.0) -> str:
        """Run virsh on this daemon (a process of its own: the tests' asyncio loops never
        carry these calls); its output, or RuntimeError with its message."""
        done = subprocess.run(["virsh", "-q", "-c", self.uri, *args], capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"virsh {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"libvirtd exited: {(self.dir / 'daemon.out').read_text()[-400:]}")
            if (self.dir / "run" / "libvirt-sock").exists():
                try:
                    self.virsh("version", timeout=timeout)
                    return
                except RuntimeError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"libvirtd did not answer within {timeout:g} s")
            time.sleep(0.05)

    def create(self, name: str, mem_mib: int = 128, working_set_mib: float = 48,
               dirty_rate_mib_s: float = 20) -> str:
        """A running transient domain with the lab's tiny dirtying guest (TCG); its name."""
        image = write_image(self.dir / f"{name}.bin", working_set_mib, dirty_rate_mib_s)
        xml = self.dir / f"{name}.xml"
        xml.write_text(f"""<domain type='qemu'>
  <name>{name}</name><memory unit='MiB'>{mem_mib}</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>{image}</kernel></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
  <devices><emulator>{emulator()}</emulator><controller type='usb' model='none'/>
    <memballoon model='none'/></devices>
</domain>
""")
        self.virsh("create", str(xml))
        return name

    def qemu_pid(self, name: str) -> int | None:
        try:
            return int((self.dir / "run" / "qemu" / f"{name}.pid").read_text())
        except (OSError, ValueError):
            return None

    def domain_log(self, name: str) -> str:
        try:
            return (self.dir / "log" / "qemu" / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """Kill its QEMUs and the daemon (throwaway: nothing of theirs to keep), and keep
        what it probed (another QEMU, say) for the next daemon."""
        self._kill_qemus()
        self.proc.kill()
        self.proc.wait(10)
        self._kill_qemus()  # one it started meanwhile
        caps = self.dir / "cache" / "qemu" / "capabilities"
        if caps.is_dir():
            with contextlib.suppress(OSError):
                shutil.copytree(caps, CAPS_CACHE, dirs_exist_ok=True)

    def _kill_qemus(self) -> None:
        for pidfile in (self.dir / "run" / "qemu").glob("*.pid"):
            with contextlib.suppress(OSError, ValueError):
                pid = int(pidfile.read_text())
                if Path(f"/proc/{pid}/cmdline").read_bytes().find(b"qemu") >= 0:
                    os.kill(pid, signal.SIGKILL)
