"""Where a QMP monitor listens: ``unix:/path``, a bare path, ``tcp:HOST:PORT``, ``HOST:PORT``,
or ``ssh://[USER@]HOST[:PORT]/path/to/qmp.sock`` (a unix socket on another host, through
OpenSSH); or a domain under libvirt, ``libvirt:URI#DOMAIN`` (watched through libvirt's API)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
_SSH = re.compile(r"^ssh://(?:([A-Za-z0-9_.][A-Za-z0-9_.-]*)@)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)"
                  r"(?::(\d{1,5}))?(/.*)$")


@dataclass(frozen=True)
class Endpoint:
    """A parsed QMP address."""

    kind: str  # "unix", "tcp", "ssh" or "libvirt" (host: the connection URI, path: the domain)
    path: str = ""  # unix: the socket; ssh: the socket on the remote host
    host: str = ""
    port: int = 0  # ssh: 0 for ssh's own default
    user: str = ""  # ssh: "" for ssh's own default

    @property
    def address(self) -> str | tuple[str, int]:
        """What qemu.qmp's ``connect`` takes."""
        return self.path if self.kind == "unix" else (self.host, self.port)

    @property
    def is_loopback(self) -> bool:
        if self.kind in ("unix", "ssh", "libvirt"):  # ssh, libvirt: authenticated transports
            return True
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        if self.kind == "libvirt":
            return f"libvirt:{self.host}#{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.kind == "ssh":
            user = f"{self.user}@" if self.user else ""
            port = f":{self.port}" if self.port else ""
            return f"ssh://{user}{host}{port}{self.path}"
        return f"tcp:{host}:{self.port}"

    def warning(self) -> str | None:
        """A warning to print before connecting, if any."""
        if not self.is_loopback:
            return (f"warning: {self} is not on this host; QMP has no authentication or "
                    "encryption, so anyone on the path can read and drive this monitor")
        return None


def parse_endpoint(text: str) -> Endpoint:
    """Parse an endpoint; raise ValueError with a one-line reason."""
    text = text.strip()
    if not text:
        raise ValueError("empty endpoint: give a socket path, unix:/path or tcp:HOST:PORT")
    if text.startswith("ssh:"):
        m = _SSH.match(text)
        if m is None:
            raise ValueError(f"expected ssh://[USER@]HOST[:PORT]/path/to/qmp.sock, got {text!r}")
        port = int(m.group(3) or 0)
        if m.group(3) and not 0 < port < 65536:
            raise ValueError(f"port {port} is out of range 1..65535 in {text!r}")
        if m.group(4) in ("", "/"):
            raise ValueError(f"no socket path in {text!r}")
        return Endpoint("ssh", path=m.group(4), host=m.group(2).strip("[]"), port=port,
                        user=m.group(1) or "")
    if text.startswith("libvirt:"):
        uri, _, domain = text[8:].partition("#")
        if not uri or not domain:
            raise ValueError(f"expected libvirt:URI#DOMAIN (qemu:///system#web1), got {text!r}")
        return Endpoint("libvirt", path=domain, host=uri)
    if text.startswith("unix:"):
        path = text[5:]
        if not path:
            raise ValueError(f"no path in {text!r}")
        return Endpoint("unix", path=path)
    body = text[4:] if text.startswith("tcp:") else text
    m = _HOST_PORT.match(body)
    if m and "/" not in body:
        port = int(m.group(2))
        if not 0 < port < 65536:
            raise ValueError(f"port {port} is out of range 1..65535 in {text!r}")
        return Endpoint("tcp", host=m.group(1).strip("[]"), port=port)
    if text.startswith("tcp:"):
        raise ValueError(f"expected tcp:HOST:PORT, got {text!r}")
    return Endpoint("unix", path=text)


NETWORK_SCHEMES = ("tcp:", "ssh:", "libvirt:")  # endpoints whose text is never a file glob


def is_glob(text: str) -> bool:
    """Whether ``text`` is a pattern of socket files (not an endpoint of another scheme)."""
    return any(c in text for c in "*?[") and not text.startswith(NETWORK_SCHEMES)


def managed_name(text: str) -> str | None:
    """The VM's own name where the endpoint names it (a domain under libvirt), else None."""
    return text.rpartition("#")[2] if text.startswith("libvirt:") else None
