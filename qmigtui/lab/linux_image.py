"""A real Linux guest for the lab: a Debian cloud kernel and an initramfs with busybox and
stress-ng, built once from Debian's packages into a cache.

``prepare`` unpacks the packages with their closure (debroot: the archive is the machine's
own, nothing is installed), takes the kernel, busybox, stress-ng and the libraries and loader
stress-ng needs, all of them the guest's own (never the build host's), and writes a gzip'd
initramfs whose /init mounts the usual file systems and runs /workload. Each lab start
appends a small archive holding that workload (the kernel unpacks concatenated archives), so
one cache serves every workload.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qmigtui.lab import debroot
from qmigtui.lab.cpio import CpioWriter

PACKAGES = ["linux-image-cloud-amd64", "busybox-static", "stress-ng"]
# The guest's userland picks a release on purpose: Debian 12, as the machines operators run.
SUITES = ["bookworm", "bookworm-updates", "bookworm-security"]
FORMAT = 2  # bump when what goes into the image changes (2: the guest's own loader)
KERNEL_ARGS = "console=ttyS0 panic=-1 mitigations=off tsc=reliable"
READY = "qmigtui-guest: ready"
LOADER = "/lib64/ld-linux-x86-64.so.2"  # the program interpreter stress-ng names

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm
echo "qmigtui-guest: up after $(cut -d' ' -f1 /proc/uptime) s"
[ -x /workload ] && /workload
echo "qmigtui-guest: workload ended"
while true; do sleep 3600; done
"""


class ImageError(RuntimeError):
    """The Linux guest could not be built; one line says why."""


@dataclass(frozen=True)
class LinuxImage:
    """A cached kernel and base initramfs."""

    kernel: Path
    initrd: Path
    versions: dict[str, str]

    def initrd_with(self, workload: str, dest: Path) -> Path:
        """The base initramfs followed by a (gzip'd) archive whose /workload is this script."""
        extra = io.BytesIO()
        w = CpioWriter(extra)
        w.file("workload", ("#!/bin/sh\n" + workload + "\n").encode(), 0o755)
        w.close()
        with dest.open("wb") as out:
            with self.initrd.open("rb") as base:
                shutil.copyfileobj(base, out)
            out.write(gzip.compress(extra.getvalue()))
        return dest


def cache_root() -> Path:
    """``$QMIGTUI_CACHE``, else ``$XDG_CACHE_HOME/qmigtui``, else ``~/.cache/qmigtui``."""
    if env := os.environ.get("QMIGTUI_CACHE"):
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qmigtui"


def cached(root: Path | None = None) -> LinuxImage | None:
    """The image built before, if it is whole and of this format."""
    where = (root or cache_root()) / "linux-guest"
    try:
        manifest = json.loads((where / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    kernel, initrd = where / "vmlinuz", where / "initrd.gz"
    if manifest.get("format") != FORMAT or not kernel.is_file() or not initrd.is_file():
        return None
    return LinuxImage(kernel, initrd, dict(manifest.get("versions", {})))


def prepare(root: Path | None = None, say: Callable[[str], None] | None = None) -> LinuxImage:
    """The cached image, built first when missing (about 50 MB downloaded once)."""
    root = root or cache_root()
    if (image := cached(root)) is not None:
        return image
    root.mkdir(parents=True, exist_ok=True)
    if say:
        say(f"building the Linux guest from Debian packages into {root / 'linux-guest'} (once)")
    with tempfile.TemporaryDirectory(dir=root, prefix="build-") as tmp:
        work = Path(tmp)
        unpacked = work / "root"
        try:
            debroot.fetch(unpacked, SUITES, PACKAGES)
        except debroot.DebrootError as e:
            raise ImageError(f"the Linux guest is built from Debian packages: {e}") from None
        versions = debroot.versions(unpacked)
        out = work / "linux-guest"
        out.mkdir()
        kernels = sorted((unpacked / "boot").glob("vmlinuz-*"))
        if not kernels:
            raise ImageError("no kernel in linux-image-cloud-amd64")
        shutil.copyfile(kernels[-1], out / "vmlinuz")
        _write_initrd(unpacked, out / "initrd.gz")
        (out / "manifest.json").write_text(json.dumps(
            {"format": FORMAT, "kernel": kernels[-1].name,
             "versions": {k: v for k, v in versions.items()
                          if k.startswith(("linux-image", "busybox", "stress-ng", "libc6"))}},
            indent=1))
        final = root / "linux-guest"
        shutil.rmtree(final, ignore_errors=True)
        out.rename(final)
    image = cached(root)
    assert image is not None
    return image


def _libraries(unpacked: Path, binary: Path) -> list[str]:
    """The shared libraries ``binary`` loads, found inside ``unpacked`` by its own loader, and
    that loader, as paths in the guest (each resolved inside ``unpacked``: an absolute link
    there must not reach the build host's file of that name)."""
    loader, _, paths, program = debroot.loader_command(unpacked, str(binary.relative_to(unpacked)))
    done = subprocess.run([loader, "--library-path", paths, "--list", program],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise ImageError(f"cannot list the libraries of {binary.name}: {done.stderr.strip()[:200]}")
    found = [LOADER]
    for line in done.stdout.splitlines():
        if "=>" in line and (path := line.split("=>", 1)[1].split("(")[0].strip()):
            lib = Path(path)
            found.append("/" + str(lib.relative_to(unpacked)) if lib.is_relative_to(unpacked)
                         else str(lib))
    return list(dict.fromkeys(found))


def _write_initrd(unpacked: Path, dest: Path) -> None:
    stress = unpacked / "usr" / "bin" / "stress-ng"
    raw = io.BytesIO()
    w = CpioWriter(raw)
    for d in ("proc", "sys", "dev", "tmp", "bin", "sbin", "usr/bin", "usr/sbin", "root", "etc"):
        w.directory(d)
    w.file("init", INIT.encode(), 0o755)
    w.file("bin/busybox", (unpacked / "bin" / "busybox").read_bytes(), 0o755)
    w.file("usr/bin/stress-ng", stress.read_bytes(), 0o755)
    w.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    w.file("etc/group", b"root:x:0:\n")
    for lib in _libraries(unpacked, stress):
        w.file(lib.lstrip("/"), debroot.inside(unpacked, lib).read_bytes(), 0o755)
    w.close()
    with gzip.open(dest, "wb", compresslevel=6) as out:
        out.write(raw.getvalue())
