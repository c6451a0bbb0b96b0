"""A QEMU of a chosen Debian release unpacked with its whole closure into .cache/qemu-VERSION,
started through its own loader by the wrapper .cache/qemu-VERSION/qemu-system-x86_64 (its
firmware and modules its own), so it runs on Debian 12 and 13 alike.

    python scripts/qemu_root.py VERSION     prints the wrapper's path; exit 1 if it cannot run

VERSION is one of the releases below: the suite is what picks the QEMU version.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from qmigtui.lab import debroot

# version -> (suites, default release, packages): where Debian ships that QEMU. Every module
# package too: QEMU looks for a module it lacks in the system's module directory, and one of
# another build there aborts it (at qom-list-types, which libvirt's probe sends).
BASE = ["qemu-system-x86", "qemu-utils", "qemu-system-gui", "qemu-block-extra"]
MODULES = ["qemu-system-modules-opengl", "qemu-system-modules-spice"]
TRIXIE = ["trixie", "trixie-updates", "trixie-security"]
RELEASES = {
    "7.2": (["bookworm", "bookworm-updates", "bookworm-security"], "", BASE),
    "10.0": (TRIXIE, "", BASE + MODULES),
    "11.1": ([*TRIXIE, "trixie-backports"], "trixie-backports", BASE + MODULES),
}
TOP = Path(__file__).resolve().parents[1]


def wrapper_path(version: str) -> Path:
    return TOP / ".cache" / f"qemu-{version}" / "qemu-system-x86_64"


def version_of(wrapper: Path) -> str:
    """What the QEMU behind ``wrapper`` says of its version ('' when it does not run)."""
    try:
        out = subprocess.run([str(wrapper), "--version"], capture_output=True, text=True,
                             timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.splitlines()[0] if out.returncode == 0 and out.stdout else ""


def prepare(version: str) -> Path:
    wrapper = wrapper_path(version)
    if f"version {version}." in version_of(wrapper):
        return wrapper
    suites, default, packages = RELEASES[version]
    root = wrapper.parent
    try:
        debroot.fetch(root, suites, packages, default)
    except debroot.DebrootError as e:
        sys.exit(f"qemu_root: QEMU {version}: {e}")
    debroot.write_wrapper(
        root, "usr/bin/qemu-system-x86_64", wrapper.name,
        ["-L", str(root / "usr/share/qemu"), "-L", str(root / "usr/share/seabios")],
        {"QEMU_MODULE_DIR": str(debroot.inside(root, f"usr/lib/{debroot.MULTIARCH}/qemu"))})
    debroot.write_wrapper(root, "usr/bin/qemu-img", "qemu-img", [], {})
    said = version_of(wrapper)
    if f"version {version}." not in said:
        sys.exit(f"qemu_root: QEMU {version} in {root} does not run here ({said or 'no answer'})")
    return wrapper


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in RELEASES:
        sys.exit(f"usage: scripts/qemu_root.py {{{','.join(RELEASES)}}}")
    print(prepare(argv[0]))


if __name__ == "__main__":
    main(sys.argv[1:])
