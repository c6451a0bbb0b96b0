"""OpenSSH's server with its whole closure unpacked into .cache/openssh (not installed, not
started; see debroot.py), behind the wrapper .cache/openssh/sshd that runs it through the
root's own loader, so the same sshd runs on Debian 12 and 13. The ssh:// tests start their own
throwaway sshd on 127.0.0.1 from it (with -r: a re-exec would leave the root's loader).
Prints the wrapper's path; exit 1 when it does not run here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from qmigtui.lab import debroot

# bookworm's OpenSSH 9.2 on purpose: one sshd binary that still takes -r (no re-exec).
SUITES = ["bookworm", "bookworm-updates", "bookworm-security"]
ROOT = Path(__file__).resolve().parents[1] / ".cache" / "openssh"


def runs(wrapper: Path) -> bool:
    try:
        said = subprocess.run([str(wrapper), "-V"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "OpenSSH" in said.stderr


def main() -> None:
    wrapper = ROOT / "sshd"
    if not runs(wrapper):
        try:
            debroot.fetch(ROOT, SUITES, ["openssh-server"])
        except debroot.DebrootError as e:
            sys.exit(f"sshd_root: {e}")
        debroot.write_wrapper(ROOT, "usr/sbin/sshd", "sshd", [], {})
        if not runs(wrapper):
            sys.exit(f"sshd_root: the sshd in {ROOT} does not run here")
    print(wrapper)


if __name__ == "__main__":
    main()
