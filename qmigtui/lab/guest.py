"""The lab guest: a Multiboot image, built here, that dirties memory at a set rate.

The machine code is assembled from ``guest.S`` beside this file (kept as the
readable source); the two parameters live at fixed offsets in the image, so
building a guest is packing bytes, with no toolchain needed at run time.
"""

from __future__ import annotations

import struct
from pathlib import Path

PAGE = 4096
WS_OFFSET = 32
RATE_OFFSET = 36
MAX_PAGES_PER_SECOND = 2_000_000  # keeps the guest's 32-bit credit arithmetic exact

# Assembled from guest.S (as --32; ld --oformat binary -Ttext=0x100000).
_IMAGE_HEX = (
    "02b0ad1b02000100fc4f51e400001000000010000000000000000000280010000000000000"
    "000000fa8b43080500040000c1e00a89c5bf0000200039ef730ec7070100000081c7001000"
    "00ebeebe00002000a12000100001f039e8760289e889c589f7b034e64330c0e640e64031c9"
    "31db30c0e643e44088c2e44088c60fb7d289d829d025ffff000089d33d000800007605b800"
    "080000f7252400100001c181f9de34120072ca81e9de341200ff0781c70010000039ef72e6"
    "89f7ebe2"
)


def build_image(working_set_mib: float, dirty_rate_mib_s: float) -> bytes:
    """Return the guest image for a working set (MiB) and dirty rate (MiB/s)."""
    if working_set_mib <= 0:
        raise ValueError("working set must be more than 0 MiB")
    if dirty_rate_mib_s < 0:
        raise ValueError("dirty rate must not be negative")
    ws_bytes = max(PAGE, int(working_set_mib * 1024 * 1024) // PAGE * PAGE)
    if ws_bytes >= 1 << 32:
        raise ValueError("working set must be under 4 GiB")
    pages_per_second = round(dirty_rate_mib_s * 1024 * 1024 / PAGE)
    if pages_per_second > MAX_PAGES_PER_SECOND:
        raise ValueError(f"dirty rate must be at most {MAX_PAGES_PER_SECOND * PAGE >> 20} MiB/s")
    image = bytearray.fromhex(_IMAGE_HEX)
    struct.pack_into("<II", image, WS_OFFSET, ws_bytes, pages_per_second)
    return bytes(image)


def write_image(path: Path, working_set_mib: float, dirty_rate_mib_s: float) -> Path:
    """Write the guest image to ``path`` and return it."""
    path.write_bytes(build_image(working_set_mib, dirty_rate_mib_s))
    return path
