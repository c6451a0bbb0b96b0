"""The session for an endpoint: QMP on a socket, or a domain under libvirt."""

from __future__ import annotations

from qmigtui.qmp.endpoint import Endpoint
from qmigtui.qmp.qmp_session import QmpSession
from qmigtui.qmp.session import Session


def session_for(endpoint: Endpoint, name: str, *, read_only: bool = False, monitor: bool = False,
                peer: Endpoint | None = None, greeting_timeout: float = 3.0) -> Session:
    """A session for ``endpoint``; a libvirt source sends its migration to ``peer``'s libvirt,
    and with ``monitor`` may send raw QMP through libvirt (which taints the domain)."""
    if endpoint.kind == "libvirt":
        from qmigtui.qmp.libvirt_session import LibvirtSession
        peer_uri = peer.host if peer is not None and peer.kind == "libvirt" else None
        return LibvirtSession(endpoint.host, endpoint.path, name, read_only=read_only,
                              monitor=monitor, peer_uri=peer_uri)
    return QmpSession(endpoint, name, read_only=read_only, greeting_timeout=greeting_timeout)


def pair_problem(source: Endpoint, destination: Endpoint | None) -> str | None:
    """Why these two cannot be a pair (one under libvirt, the other not), or None."""
    if destination is not None and (source.kind == "libvirt") != (destination.kind == "libvirt"):
        return "a domain under libvirt pairs only with the same domain under another libvirt " \
               "(--connect URI DOMAIN --dest-connect URI2)"
    return None
