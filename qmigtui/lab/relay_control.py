"""Talking to a running relay on its control socket (cut, restore, ask)."""

from __future__ import annotations

import socket


def send_relay_command(control_path: str, command: str, timeout: float = 2.0) -> str:
    """Send one control command to a running relay and return its reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(control_path)
        s.sendall(command.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode(errors="replace").strip()
