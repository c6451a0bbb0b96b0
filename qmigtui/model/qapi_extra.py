"""QAPI types migration.json uses but defines elsewhere (sockets.json, common.json)."""

from __future__ import annotations

from typing import Any

STRUCTS: dict[str, Any] = {
    "InetSocketAddress": {
        "data": {"host": "str", "port": "str", "*numeric": "bool", "*to": "uint16",
                 "*ipv4": "bool", "*ipv6": "bool", "*keep-alive": "bool", "*mptcp": "bool"}
    },
    "UnixSocketAddress": {"data": {"path": "str", "*abstract": "bool", "*tight": "bool"}},
    "VsockSocketAddress": {"data": {"cid": "str", "port": "str"}},
    "String": {"data": {"str": "str"}},
}

ENUMS: dict[str, Any] = {
    "SocketAddressType": {"data": ["inet", "unix", "vsock", "fd"]},
}

UNIONS: dict[str, Any] = {
    "SocketAddress": {
        "base": {"type": "SocketAddressType"},
        "discriminator": "type",
        "data": {"inet": "InetSocketAddress", "unix": "UnixSocketAddress",
                 "vsock": "VsockSocketAddress", "fd": "String"},
    },
}

# StrOrNull is an alternate of str and null.
ALTERNATES = {"StrOrNull": ("str", "null")}
