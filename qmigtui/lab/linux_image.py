"""A real Linux guest for the lab: a Debian cloud kernel and an initramfs with busybox and
stress-ng, built once from Debian's packages into a cache.

``prepare`` downloads with apt-get into private directories (nothing of the system's apt
state changes, nothing is installed), unpacks with dpkg-deb, takes the kernel, busybox,
stress-ng and the libraries stress-ng loads, and writes a gzip'd initramfs whose /init mounts
the usual file systems and runs /workload.  Each lab start appends a small archive holding
that workload (the kernel unpacks concatenated archives), so one cache serves every workload.
"""

from __future__ import annotations

import getpass
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

from qmigtui.lab.cpio import CpioWriter

PACKAGES = ("linux-image-cloud-amd64", "busybox-static", "stress-ng")
_KEY = "[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"
SOURCES = "".join(  # Debian 12, as the machines operators run; signed by the archive key
    f"deb {_KEY} http://deb.debian.org/{where} main\n"
    for where in ("debian bookworm", "debian bookworm-updates", "debian-security bookworm-security"))
FORMAT = 1  # bump when what goes into the image changes
KERNEL_ARGS = "console=ttyS0 panic=-1 mitigations=off tsc=reliable"
READY = "qmigtui-guest: ready"

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
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise ImageError(f"the Linux guest is built from Debian packages: {tool} not found")
    root.mkdir(parents=True, exist_ok=True)
    if say:
        say(f"building the Linux guest from Debian packages into {root / 'linux-guest'} (once)")
    with tempfile.TemporaryDirectory(dir=root, prefix="build-") as tmp:
        work = Path(tmp)
        debs = _download(work)
        unpacked = work / "root"
        versions = {}
        for deb in debs:
            _run(["dpkg-deb", "-x", str(deb), str(unpacked)], "dpkg-deb")
            name, version = deb.name.split("_")[:2]
            versions[name] = version.replace("%3a", ":")
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


def _download(work: Path) -> list[Path]:
    (work / "lists" / "partial").mkdir(parents=True)
    (work / "cache" / "archives" / "partial").mkdir(parents=True)
    (work / "sources.list").write_text(SOURCES)
    (work / "status").write_text("")  # nothing installed: apt fetches the whole closure
    apt = ["apt-get", "-qq", "-o", f"Dir::Etc::SourceList={work / 'sources.list'}",
           "-o", "Dir::Etc::SourceParts=/dev/null", "-o", f"Dir::State::Lists={work / 'lists'}",
           "-o", f"Dir::Cache={work / 'cache'}", "-o", f"Dir::State::status={work / 'status'}",
           "-o", f"APT::Sandbox::User={getpass.getuser()}", "-o", "Debug::NoLocking=1",
           "-o", "APT::Install-Recommends=false"]
    _run([*apt, "update"], "apt-get update")
    _run([*apt, "-y", "--download-only", "install", *PACKAGES], "apt-get download")
    return sorted((work / "cache" / "archives").glob("*.deb"))


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode:
        last = (done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}").splitlines()[-1]
        raise ImageError(f"{what}: {last[:300]}")


def _libraries(unpacked: Path, binary: Path) -> list[Path]:
    """The shared libraries ``binary`` loads, found inside ``unpacked`` by its own loader."""
    loader = unpacked / "lib64" / "ld-linux-x86-64.so.2"
    paths = ":".join(str(unpacked / d) for d in ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"))
    done = subprocess.run([str(loader), "--library-path", paths, "--list", str(binary)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise ImageError(f"cannot list the libraries of {binary.name}: {done.stderr.strip()[:200]}")
    found = []
    for line in done.stdout.splitlines():
        if "=>" in line and (path := line.split("=>", 1)[1].split("(")[0].strip()):
            found.append(Path(path))
    return found


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
        inside = "/" + str(lib.relative_to(unpacked)) if lib.is_relative_to(unpacked) else str(lib)
        w.file(inside, lib.resolve().read_bytes(), 0o755)
    w.close()
    with gzip.open(dest, "wb", compresslevel=6) as out:
        out.write(raw.getvalue())
