"""Debian packages with their whole library closure unpacked into one root, not installed.

apt resolves the closure against an empty package state (so nothing of this host is assumed)
with a private sources list, lists and cache: the system's apt setup is not changed. The
archive's location (mirror, proxy) is the machine's own: taken from its apt configuration,
never written here. SUITE picks a release on purpose; each is asked for from the archive that
serves the host's release (``*-security`` from the one that serves the host's security
suite). A program of the root runs on any x86-64 Linux through the root's own loader (see
``loader_command``), so a QEMU of one Debian release runs on another.
"""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
MULTIARCH = "x86_64-linux-gnu"
VERSIONS = "debroot-versions"  # in the root: one "package version" a line


class DebrootError(RuntimeError):
    """The packages could not be had or unpacked; one line says why."""


def host_archives() -> tuple[str, str | None]:
    """The URIs (archive, security archive) that serve this host's Debian release."""
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise DebrootError(f"Debian's packages are needed here: {tool} not found")
    out = _run(["apt-get", "indextargets", "--format", "$(REPO_URI) $(RELEASE)"], "apt-get")
    codename = _os_release().get("VERSION_CODENAME", "")
    archive = security = None
    for line in sorted(set(out.splitlines())):
        uri, _, release = line.partition(" ")
        if release == f"{codename}-security" and security is None:
            security = uri
        elif release in (codename, f"{codename}-updates") and archive is None:
            archive = uri
    if archive is None:
        raise DebrootError(f"no Debian archive for '{codename}' in this machine's apt sources")
    return archive, security


def _os_release() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines()
             if "=" in line)
    return {k: v.strip('"') for k, v in pairs}


def sources_list(suites: list[str]) -> str:
    archive, security = host_archives()
    signed = f" [signed-by={KEYRING}]" if Path(KEYRING).exists() else ""
    lines = []
    for suite in suites:
        uri = security if suite.endswith("-security") else archive
        if uri is not None:  # a machine whose sources name no security archive goes without
            lines.append(f"deb{signed} {uri} {suite} main\n")
    return "".join(lines)


def fetch(dest: Path, suites: list[str], packages: list[str], default_release: str = "") -> None:
    """``packages`` of ``suites`` and everything they depend on, unpacked into ``dest``."""
    with tempfile.TemporaryDirectory(prefix="debroot-") as tmp:
        work = Path(tmp)
        for d in ("lists/partial", "archives/partial", "state"):
            (work / d).mkdir(parents=True)
        (work / "state" / "status").touch()
        (work / "sources.list").write_text(sources_list(suites))
        apt = ["apt-get", "-qq", "-o", f"Dir::Etc::SourceList={work / 'sources.list'}",
               "-o", "Dir::Etc::SourceParts=/dev/null", "-o", "Dir::Etc::Preferences=/dev/null",
               "-o", "Dir::Etc::PreferencesParts=/dev/null",
               "-o", f"Dir::State::Lists={work / 'lists'}",
               "-o", f"Dir::State::status={work / 'state' / 'status'}",
               "-o", f"Dir::Cache::Archives={work / 'archives'}",
               "-o", f"Dir::Cache={work}", "-o", "APT::Architecture=amd64",
               "-o", f"APT::Sandbox::User={getpass.getuser()}", "-o", "Debug::NoLocking=1",
               *(["-o", f"APT::Default-Release={default_release}"] if default_release else [])]
        _run([*apt, "update"], "apt-get update")
        _run([*apt, "install", "--download-only", "--no-install-recommends", "-y", *packages],
             "apt-get download")
        new = dest.with_name(dest.name + ".new")
        shutil.rmtree(new, ignore_errors=True)
        new.mkdir(parents=True)
        debs = sorted((work / "archives").glob("*.deb"))
        (new / VERSIONS).write_text("".join(
            "{} {}\n".format(*deb.name.split("_")[:2]).replace("%3a", ":") for deb in debs))
        for deb in debs:
            _run(["dpkg-deb", "-x", str(deb), str(new)], "dpkg-deb")
        shutil.rmtree(dest, ignore_errors=True)
        new.rename(dest)


def versions(dest: Path) -> dict[str, str]:
    """Package name -> version of what ``fetch`` unpacked into ``dest``."""
    try:
        return dict(line.split(" ", 1) for line in (dest / VERSIONS).read_text().splitlines())
    except (OSError, ValueError):
        return {}


def _run(argv: list[str], what: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode:
        last = (done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}").splitlines()[-1]
        raise DebrootError(f"{what}: {last[:300]}")
    return done.stdout


def inside(root: Path, path: str) -> Path:
    """``path`` of the root with its symbolic links resolved inside the root (an absolute link
    points into the root, never at the host's file of that name)."""
    current = root
    parts = [p for p in path.split("/") if p]
    hops = 0
    while parts:
        part = parts.pop(0)
        candidate = current / part
        if candidate.is_symlink():
            hops += 1
            if hops > 40:
                raise OSError(f"too many links resolving {path} in {root}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                current = root
            parts = [p for p in target.split("/") if p] + parts
            continue
        if part == "..":
            current = current.parent if current != root else root
        elif part != ".":
            current = candidate
    return current


def library_path(root: Path) -> str:
    """The root's library directories, and those below them that hold libraries of their own
    (found through a RUNPATH on the host, such as pulseaudio's)."""
    tops = [d for d in dict.fromkeys(inside(root, p) for p in (f"lib/{MULTIARCH}", f"usr/lib/{MULTIARCH}"))
            if d.is_dir()]
    below = [sub for top in tops for sub in sorted(top.iterdir())
             if sub.is_dir() and not sub.is_symlink() and next(sub.glob("lib*.so*"), None)]
    return ":".join(str(d) for d in [*tops, *below])


def loader_command(root: Path, program: str) -> list[str]:
    """argv that runs the root's ``program`` with the root's own loader and libraries."""
    found = [inside(root, f"{d}/{MULTIARCH}/ld-linux-x86-64.so.2") for d in ("usr/lib", "lib")]
    loader = next((p for p in found if p.is_file()), found[0])
    return [str(loader), "--library-path", library_path(root), str(inside(root, program))]


def write_wrapper(root: Path, program: str, name: str, extra: list[str],
                  env: dict[str, str]) -> Path:
    """An executable script ROOT/NAME that execs ``program`` through the root's loader."""
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    argv = shlex.join([*loader_command(root, program), *extra])
    wrapper = root / name
    wrapper.write_text(f"#!/bin/sh\n{exports}exec {argv} \"$@\"\n")
    wrapper.chmod(0o755)
    return wrapper

