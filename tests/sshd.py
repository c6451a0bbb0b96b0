"""A throwaway OpenSSH server on 127.0.0.1 for the ssh:// tests: its own host key, one client
key, a config for the client, started from the sshd unpacked with its closure into .cache/openssh
(scripts/sshd_root.py) and stopped when the test ends."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHED = ROOT / ".cache" / "openssh"


def sshd_binary() -> str | None:
    """The sshd to run: the wrapper that starts the unpacked one through its own loader."""
    wrapper = CACHED / "sshd"
    return str(wrapper) if wrapper.exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@dataclass
class Sshd:
    dir: Path
    port: int
    user: str
    proc: subprocess.Popen[bytes]

    def client_config(self, name: str = "config", known: bool = True, key: str = "client") -> str:
        """An ssh config for the client; returns the QMIGTUI_SSH value that uses it."""
        known_hosts = self.dir / ("known_hosts" if known else "empty_known_hosts")
        known_hosts.touch()
        config = self.dir / name
        config.write_text(
            f"Host *\n  User {self.user}\n  IdentityFile {self.dir / key}\n  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {known_hosts}\n  StrictHostKeyChecking yes\n"
            f"  GlobalKnownHostsFile /dev/null\n")
        return f"ssh -F {config}"

    def url(self, path: str) -> str:
        return f"ssh://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def start_sshd(tmp: Path) -> Sshd:
    binary = sshd_binary()
    assert binary is not None, "no sshd: make sshd (scripts/sshd_root.py)"
    d = tmp / "sshd"
    d.mkdir(mode=0o700)
    _keygen(d / "host")
    _keygen(d / "client")
    _keygen(d / "stranger")  # a key the server does not know
    (d / "authorized_keys").write_text((d / "client.pub").read_text())
    port = _free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host'}\nPidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nPermitRootLogin prohibit-password\n"
        "StrictModes no\nAllowStreamLocalForwarding yes\n")
    host_key = (d / "host.pub").read_text().split()
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # its privilege-separation directory
    # -r: no re-exec, which would start the sshd binary without the root's own loader
    proc = subprocess.Popen([binary, "-D", "-e", "-r", "-f", str(d / "sshd_config")],
                            stdout=subprocess.DEVNULL, stderr=open(d / "sshd.log", "wb"))  # noqa: SIM115
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"sshd did not start: {(d / 'sshd.log').read_text()[-500:]}")
        time.sleep(0.05)
    return Sshd(d, port, getpass.getuser(), proc)
