"""Who holds a QMP monitor: the process connected to a unix socket QEMU listens on.

QEMU serves one client per monitor; when a second one gets no greeting, the operator needs
to know whom to ask (libvirt's daemon, a qmp-shell left open, another qmigtui).  Found with
``ss`` from iproute2 (the accepted socket carries the monitor's path and its peer's inode);
the process is named only where this user may see it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from qmigtui.model.text import clean

_USER = re.compile(r'\("([^"]{1,64})",pid=(\d+)')


def monitor_holders(path: str, timeout: float = 2.0) -> list[str]:
    """"name (pid N)" of each other process connected to the unix socket at ``path``."""
    ss = shutil.which("ss")
    if ss is None:
        return []
    try:
        out = subprocess.run([ss, "-xpn"], capture_output=True, text=True, timeout=timeout,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    served: set[str] = set()  # the peer inodes of the sockets QEMU accepted on this path
    users: dict[str, list[tuple[str, int]]] = {}  # local inode -> processes holding it
    for line in out.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8 or fields[1] != "ESTAB":
            continue
        local, inode, peer = fields[4], fields[5], fields[7]
        if local == path:
            served.add(peer)
        users[inode] = [(name, int(pid)) for name, pid in _USER.findall(" ".join(fields[8:]))]
    return [f"{clean(name, 64)} (pid {pid})" for inode in sorted(served)
            for name, pid in users.get(inode, ()) if pid != os.getpid()]
