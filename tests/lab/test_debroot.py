"""Unpacked Debian roots (debroot): paths resolved inside the root, archives from the machine's
own apt configuration, suites named only where a release is picked on purpose."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from qmigtui.lab import debroot

ROOT = Path(__file__).resolve().parents[2]
# The only places that pick a Debian release on purpose: a QEMU version, the sshd that takes
# -r, the Linux guest's userland.
THIS = "tests/lab/test_debroot.py"
PICKS_A_RELEASE = {"scripts/qemu_root.py", "scripts/sshd_root.py", "qmigtui/lab/linux_image.py"}


def test_an_absolute_link_resolves_inside_the_root_not_on_the_host(tmp_path):
    # bookworm's libc6 ships /lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/ld-...:
    # resolved on the host it is the host's loader (glibc 2.41 on Debian 13 beside 2.36).
    (tmp_path / "lib" / "x86_64-linux-gnu").mkdir(parents=True)
    (tmp_path / "lib" / "x86_64-linux-gnu" / "ld-linux-x86-64.so.2").write_bytes(b"guest's own")
    (tmp_path / "lib64").mkdir()
    (tmp_path / "lib64" / "ld-linux-x86-64.so.2").symlink_to("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
    (tmp_path / "usr").mkdir()
    (tmp_path / "usr" / "lib").symlink_to("../lib")  # merged /usr, relative
    found = debroot.inside(tmp_path, "/lib64/ld-linux-x86-64.so.2")
    assert found == tmp_path / "lib" / "x86_64-linux-gnu" / "ld-linux-x86-64.so.2"
    assert found.read_bytes() == b"guest's own"
    assert debroot.inside(tmp_path, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2") == found
    assert debroot.inside(tmp_path, "../../../etc/passwd") == tmp_path / "etc" / "passwd"


def test_the_archive_comes_from_this_machines_apt_configuration():
    archive, _ = debroot.host_archives()
    configured = subprocess.run(["apt-get", "indextargets", "--format", "$(REPO_URI)"],
                                capture_output=True, text=True, check=True).stdout.split()
    assert archive in configured
    listed = debroot.sources_list(["trixie-backports"])
    assert f" {archive} trixie-backports main" in listed


def test_no_mirror_host_and_no_suite_outside_the_places_that_pick_a_release():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    hosts = {re.sub(r"^\w+://([^/]+).*", r"\1", uri)
             for uri in subprocess.run(["apt-get", "indextargets", "--format", "$(REPO_URI)"],
                                       capture_output=True, text=True).stdout.split()}
    suite = re.compile(r"\b(bookworm|trixie|forky)(-\w+)?\b")
    for name in files:
        path = ROOT / name
        if name.startswith("tests/data/") or not path.is_file() or path.suffix in (".gz", ".svg", ".png"):
            continue
        text = path.read_text(errors="replace")
        for host in hosts:
            assert host not in text, f"{name} names the package archive's host {host}"
        if name not in PICKS_A_RELEASE and not name.endswith(".md") and name != THIS:
            assert not suite.search(text), f"{name} names a Debian suite: {suite.search(text)}"
