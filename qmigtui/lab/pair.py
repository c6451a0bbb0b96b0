"""A real source and destination QEMU on this machine, and the cuttable link between them."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qmigtui.lab import linux_image
from qmigtui.lab.binary import aux_ram_share, default_qemu, firmware_dirs, qemu_available
from qmigtui.lab.guest import write_image
from qmigtui.lab.linux_image import READY
from qmigtui.lab.relay_control import send_relay_command
from qmigtui.lab.workloads import DEFAULT as DEFAULT_WORKLOAD
from qmigtui.lab.workloads import WORKLOADS
from qmigtui.qmp import children

TMP_PREFIX = "qmigtui-lab-"
_live_labs: weakref.WeakSet[Lab] = weakref.WeakSet()


class LabError(RuntimeError):
    """The lab could not start; the message says why in one line."""


@dataclass
class LabConfig:
    """What the lab guest looks like and how the link behaves."""

    mem_mib: int = 256
    working_set_mib: float = 64
    dirty_rate_mib_s: float = 20
    bandwidth: int | None = None  # max-bandwidth in bytes/s, set on the source at start
    accel: str = "tcg"
    qemu: str = field(default_factory=lambda: default_qemu())
    disk_mib: int = 0  # a qcow2 block node "disk0" on each side (for snapshots); 0: none
    relay: bool = True  # the cuttable link; without it the pair is two plain QEMUs
    guest: str = "tiny"  # tiny: the Multiboot dirtier; linux: a Debian kernel running a workload
    workload: str = DEFAULT_WORKLOAD  # what the Linux guest runs (lab/workloads.py)
    cpr: bool = False  # guest RAM in a shared memfd with aux-ram-share: what cpr-transfer/exec need

    @property
    def linux(self) -> bool:
        return self.guest == "linux"

    def validate(self) -> None:
        if self.guest not in ("tiny", "linux"):
            raise LabError(f"--guest {self.guest}: use tiny or linux")
        if self.linux and self.workload not in WORKLOADS:
            raise LabError(f"--workload {self.workload}: not one of {', '.join(WORKLOADS)}")
        if self.linux and self.mem_mib < 256:
            raise LabError(f"--mem {self.mem_mib}: the Linux guest needs at least 256 MiB")
        if not 16 <= self.mem_mib <= 16384:
            raise LabError(f"--mem {self.mem_mib}: out of range 16..16384 MiB")
        if not 0 < self.working_set_mib <= self.mem_mib - 2:
            raise LabError(f"--working-set {self.working_set_mib:g}: must be above 0 and at most "
                           f"{self.mem_mib - 2} MiB (the guest's memory above 2 MiB)")
        if self.dirty_rate_mib_s < 0:
            raise LabError("--dirty-rate: must not be negative")
        if self.accel not in ("tcg", "kvm"):
            raise LabError(f"--accel {self.accel}: use tcg or kvm")
        if not 0 <= self.disk_mib <= 65536:
            raise LabError(f"--disk {self.disk_mib}: out of range 0..65536 MiB")
        if self.disk_mib and shutil.which("qemu-img") is None:
            raise LabError("--disk needs qemu-img: install qemu-utils")


class Lab:
    """Starts and stops the pair; every exit path stops the QEMUs and the relay.

    The children die with us even on SIGKILL (parent-death signal); a normal
    exit, an exception, atexit, or a signal turned into SystemExit runs ``stop``.
    """

    def __init__(self, config: LabConfig | None = None):
        self.config = config or LabConfig()
        self.dir: Path | None = None
        self.source: subprocess.Popen[bytes] | None = None
        self.destination: subprocess.Popen[bytes] | None = None
        self.relay: subprocess.Popen[bytes] | None = None
        self.relay_port = 0
        self.incoming_port = 0
        self.linux_image: linux_image.LinuxImage | None = None

    # -- paths ------------------------------------------------------------

    @property
    def source_socket(self) -> str:
        assert self.dir
        return str(self.dir / "source.qmp")

    @property
    def destination_socket(self) -> str:
        assert self.dir
        return str(self.dir / "destination.qmp")

    @property
    def relay_control(self) -> str:
        assert self.dir
        return str(self.dir / "relay.ctl")

    @property
    def migrate_uri(self) -> str:
        """Where the source sends the stream: the relay, which forwards to the destination."""
        return f"tcp:127.0.0.1:{self.relay_port}"

    # -- lifecycle --------------------------------------------------------

    def start(self) -> Lab:
        """Start relay, source and destination (destination with ``-incoming defer``)."""
        self.config.validate()
        if not qemu_available(self.config.qemu):
            raise LabError(f"{self.config.qemu} not found: install qemu-system-x86 "
                           "(apt-get install qemu-system-x86)")
        remove_stale_dirs()
        self.dir = Path(tempfile.mkdtemp(prefix=TMP_PREFIX))
        (self.dir / "owner.pid").write_text(str(os.getpid()))
        _live_labs.add(self)
        try:
            image = self.write_guest()
            if self.config.relay:
                self._start_relay()
            self.source = self._start_qemu("source", image, self.source_socket, incoming=False)
            self.destination = self._start_qemu("destination", image, self.destination_socket,
                                                incoming=True)
            self._wait_for_socket(self.source, self.source_socket, "source")
            self._wait_for_socket(self.destination, self.destination_socket, "destination")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, grace: float = 3.0) -> None:
        """Stop everything the lab started, all at once (SIGTERM, then SIGKILL after ``grace``
        seconds), and remove its directory. Safe to call twice."""
        children.stop_all([p for p in (self.source, self.destination, self.relay) if p is not None],
                          grace)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        _live_labs.discard(self)

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the link and the destination --------------------------------------

    def set_incoming_port(self, port: int) -> None:
        """Point the relay at the port the destination listens on."""
        self.incoming_port = port
        self._relay_command(f"target 127.0.0.1 {port}")

    def cut_link(self) -> None:
        """Reset every connection on the link and refuse new ones."""
        self._relay_command("cut")

    def restore_link(self) -> None:
        self._relay_command("restore")

    def link_status(self) -> str:
        return self._relay_command("status")

    def kill(self, role: str) -> None:
        """SIGKILL one QEMU (``source`` or ``destination``), as a crashed host would."""
        proc = self.source if role == "source" else self.destination
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def restart(self, role: str, incoming_options: list[str] | None = None,
                wait_for: str | None = None) -> None:
        """A fresh QEMU on the same socket (killing the old one first): what a host does
        when it brings a crashed VM back. The destination comes back waiting for an incoming
        migration (``-incoming defer``, or ``incoming_options``: a new QEMU for cpr-transfer,
        whose monitor answers only once the source has sent the cpr channel: ``wait_for``
        names the socket to wait for then, the cpr channel's)."""
        assert self.dir is not None
        self.kill(role)
        sock = self.source_socket if role == "source" else self.destination_socket
        with contextlib.suppress(FileNotFoundError):
            os.unlink(sock)
        image = self.guest_image
        proc = self._start_qemu(role, image, sock, incoming=role == "destination",
                                incoming_options=incoming_options)
        if role == "source":
            self.source = proc
        else:
            self.destination = proc
        self._wait_for_socket(proc, wait_for or sock, role)

    @property
    def guest_image(self) -> Path:
        """What the lab's QEMUs boot: the tiny guest, or the Linux guest's initrd."""
        assert self.dir is not None
        return self.dir / ("initrd.img" if self.config.linux else "guest.bin")

    def log(self, role: str) -> str:
        """What a QEMU printed on stderr (for error messages and debugging)."""
        if self.dir is None:
            return ""
        path = self.dir / f"{role}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def console(self, role: str = "source") -> str:
        """What the Linux guest printed on its serial console (on this side's QEMU)."""
        if self.dir is None:
            return ""
        path = self.dir / f"{role}-console.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def wait_guest_ready(self, execute: Callable[..., Awaitable[Any]], timeout: float = 60.0
                               ) -> None:
        """Until the guest's memory is in place: the tiny guest's top page written, or the
        Linux guest's workload saying it is ready (then its settling time)."""
        if not self.config.linux:
            await wait_guest_ready(execute, self.config.mem_mib, timeout=min(timeout, 30.0))
            return
        deadline = time.monotonic() + timeout
        while READY not in self.console("source"):
            if self.source is not None and self.source.poll() is not None:
                raise LabError(f"the source QEMU exited: {self.log('source').strip()[-200:]}")
            if time.monotonic() > deadline:
                raise LabError(f"the Linux guest did not start its workload within {timeout:g} s")
            await asyncio.sleep(0.2)
        await asyncio.sleep(WORKLOADS[self.config.workload].settle_s)

    # -- internals --------------------------------------------------------

    def write_guest(self) -> Path:
        """Write the tiny guest's image, or the Linux guest's initramfs with its workload (the
        QEMUs read it when they start)."""
        assert self.dir is not None
        c = self.config
        if not c.linux:
            return write_image(self.dir / "guest.bin", c.working_set_mib, c.dirty_rate_mib_s)
        try:
            self.linux_image = linux_image.prepare()
        except linux_image.ImageError as e:
            raise LabError(str(e)) from None
        return self.linux_image.initrd_with(WORKLOADS[c.workload].script, self.dir / "initrd.img")

    def _relay_command(self, command: str) -> str:
        reply = send_relay_command(self.relay_control, command)
        if reply.startswith("error"):
            raise LabError(f"relay: {reply}")
        return reply

    def _start_relay(self) -> None:
        env = dict(os.environ, QMIGTUI_RELAY_PARENT=str(os.getpid()))
        self.relay = children.spawn([sys.executable, "-m", "qmigtui.lab.relay", self.relay_control],
                                    stdout=subprocess.PIPE, env=env)
        assert self.relay.stdout is not None
        line = self.relay.stdout.readline().decode().split()
        if line[:1] != ["PORT"]:
            raise LabError("the lab relay did not start")
        self.relay_port = int(line[1])

    def _start_qemu(self, role: str, image: Path, sock: str, incoming: bool,
                    incoming_options: list[str] | None = None) -> subprocess.Popen[bytes]:
        assert self.dir
        argv = self.qemu_argv(role, image, sock)
        if incoming_options is not None:
            argv += incoming_options
        elif incoming:
            argv += ["-incoming", "defer"]
        log = open(self.dir / f"{role}.log", "wb")  # noqa: SIM115 - handed to the child
        try:
            return children.spawn(argv, stdout=log, stderr=log)
        finally:
            log.close()

    def qemu_argv(self, role: str, image: Path, sock: str) -> list[str]:
        """The command line of one lab QEMU, without ``-incoming``."""
        assert self.dir
        c = self.config
        machine = "pc"
        if c.cpr:  # aux-ram-share where this QEMU has it (10.0+; its schema then offers cpr-transfer)
            machine += ",memory-backend=ram0" + (",aux-ram-share=on" if aux_ram_share(c.qemu) else "")
        argv = [c.qemu, *(arg for d in firmware_dirs(c.qemu) for arg in ("-L", d)),
                "-name", f"qmigtui-lab-{role},debug-threads=on", "-machine", machine, "-accel", c.accel,
                "-m", f"{c.mem_mib}M", "-smp", "1", "-nodefaults", "-no-user-config",
                "-display", "none", "-monitor", "none", "-qmp", f"unix:{sock},server=on,wait=off"]
        if c.cpr:
            argv += ["-object", f"memory-backend-memfd,id=ram0,size={c.mem_mib}M,share=on"]
        if c.linux:
            assert self.linux_image is not None
            argv += ["-kernel", str(self.linux_image.kernel), "-initrd", str(image),
                     "-append", linux_image.KERNEL_ARGS,
                     "-serial", f"file:{self.dir / f'{role}-console.log'}"]
        else:
            argv += ["-serial", "none", "-kernel", str(image)]
        if c.disk_mib:
            disk = self.dir / f"{role}.qcow2"
            if not disk.exists():
                made = subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk),
                                       f"{c.disk_mib}M"], capture_output=True, text=True)
                if made.returncode:
                    raise LabError(f"qemu-img: {made.stderr.strip() or made.returncode}")
            argv += ["-blockdev", f"driver=file,filename={disk},node-name=file0",
                     "-blockdev", "driver=qcow2,file=file0,node-name=disk0"]
        return argv

    def _wait_for_socket(self, proc: subprocess.Popen[bytes], sock: str, role: str,
                         timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not os.path.exists(sock):
            if proc.poll() is not None:
                detail = self.log(role).strip().splitlines()
                last = detail[-1] if detail else f"exit status {proc.returncode}"
                raise LabError(f"the {role} QEMU exited at start: {last}")
            if time.monotonic() > deadline:
                raise LabError(f"the {role} QEMU did not open its QMP socket in {timeout:g} s")
            time.sleep(0.02)


def remove_stale_dirs() -> None:
    """Remove lab directories whose owner process is gone (left by a SIGKILLed run)."""
    for d in Path(tempfile.gettempdir()).glob(f"{TMP_PREFIX}*"):
        try:
            pid = int((d / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if not children.alive(pid):
            shutil.rmtree(d, ignore_errors=True)


@atexit.register
def _stop_all() -> None:
    for lab in list(_live_labs):
        with contextlib.suppress(Exception):
            lab.stop()


async def wait_guest_ready(execute: Callable[..., Awaitable[Any]], mem_mib: int,
                           timeout: float = 30.0) -> None:
    """Wait until the guest has filled its memory (a page near the top holds a non-zero word).

    ``execute`` is a session's execute; the check reads guest memory through HMP ``xp``.
    The firmware keeps the top of RAM for its tables, so the probe sits 4 MiB below it.
    """
    last_page = (mem_mib - 4) * 1024 * 1024
    deadline = time.monotonic() + timeout
    while True:
        out = await execute("human-monitor-command", {"command-line": f"xp /1wx {last_page:#x}"})
        word = str(out).rsplit(":", 1)[-1].strip()
        if word not in ("0x00000000", ""):
            return
        if time.monotonic() > deadline:
            raise LabError(f"the lab guest did not start within {timeout:g} s")
        await asyncio.sleep(0.1)
