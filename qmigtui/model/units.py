"""Reading and writing the quantities people type and read: sizes, rates, durations."""

from __future__ import annotations

import math
import re

_SIZE_SUFFIX = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgtpb]?)(?:i?b)?\s*(?:/s)?\s*$", re.IGNORECASE)
_DURATION_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
_DURATION_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def parse_size(text: str) -> int:
    """``100M`` -> 104857600; suffixes are binary (k=1024) as in QEMU's own monitor."""
    m = _SIZE_RE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r} (try 100M, 1.5G, 512k or a number of bytes)")
    value = float(m.group(1)) * _SIZE_SUFFIX[m.group(2).lower()]
    if value != int(value):
        raise ValueError(f"not a whole number of bytes: {text!r}")
    return int(value)


def parse_duration_ms(text: str) -> int:
    """``300`` or ``300ms`` -> 300; ``1.5s`` -> 1500."""
    m = _DURATION_RE.match(text)
    if not m:
        raise ValueError(f"not a duration: {text!r} (try 300, 300ms or 1.5s)")
    value = float(m.group(1)) * _DURATION_MS[(m.group(2) or "ms").lower()]
    if value != int(value):
        raise ValueError(f"not a whole number of milliseconds: {text!r}")
    return int(value)


def parse_position(text: str) -> float:
    """A point in a recording: ``90`` (seconds), ``1:30`` or ``1:02:03``, ``90s``, ``2m``."""
    text = text.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) > 3 or not all(p.replace(".", "", 1).isdigit() for p in parts):
            raise ValueError(f"not a time: {text!r} (try 90, 1:30 or 2m)")
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + float(part)
        return seconds
    try:
        return float(text)
    except ValueError:
        return parse_duration_ms(text) / 1000


def format_bytes(n: float | None) -> str:
    """``104857600`` -> ``100 MiB``; ``None`` -> ``-``."""
    if n is None:
        return "-"
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            if unit == "B":
                return f"{sign}{int(n)} B"
            return f"{sign}{n:.1f} {unit}" if n < 100 else f"{sign}{n:.0f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def format_size_input(n: int) -> str:
    """Bytes as the shortest exact text ``parse_size`` reads back: ``100M``, ``1536k``, ``7``."""
    for suffix, factor in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("k", 1 << 10)):
        if n and n % factor == 0:
            return f"{n // factor}{suffix}"
    return str(n)


def format_rate(bytes_per_second: float | None) -> str:
    """Bytes/s as ``12.3 MiB/s``."""
    return "-" if bytes_per_second is None else f"{format_bytes(bytes_per_second)}/s"


def format_ms(ms: float | None) -> str:
    """Milliseconds as ``850 ms``, ``12.4 s``, ``3m05s``, ``2h01m``."""
    if ms is None or (isinstance(ms, float) and not math.isfinite(ms)):
        return "-"
    if ms < 1000:
        return f"{ms:.0f} ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def format_ns(ns: float | None) -> str:
    """Nanoseconds as ``850 ns``, ``12.3 us``, or milliseconds and up as ``format_ms``."""
    if ns is None or (isinstance(ns, float) and not math.isfinite(ns)):
        return "-"
    if ns < 1000:
        return f"{ns:.0f} ns"
    if ns < 1_000_000:
        return f"{ns / 1000:.1f} us"
    return format_ms(ns / 1e6) if ns >= 1e9 else f"{ns / 1e6:.1f} ms"


def format_in(value: float, unit: str, *, exact: bool = False) -> str:
    """A number in its unit as a person reads it (the one formatter of the members' and
    the parameters' units); ``exact`` keeps QEMU's own number beside a large one."""
    if unit == "bytes":
        return f"{format_bytes(value)} ({value})" if exact and value >= 1024 else (
            f"{value} B" if value < 1024 else format_bytes(value))
    if unit == "bytes/s":
        return format_rate(value)
    if unit == "ms":
        return format_ms(value) if exact else f"{value} ms"
    if unit in ("ns", "us") and value >= 1000:
        return f"{format_ns(value * (1000 if unit == 'us' else 1))}" + (f" ({value} {unit})" if exact else "")
    if unit == "count":
        return str(value)
    if unit == "ratio":
        return f"{value:.3g}"
    if unit == "Mbit/s":
        return f"{value:.1f} Mbit/s ({format_rate(value * 1e6 / 8)})"
    if unit in ("", "text", "enum", "bool", "json", "level"):
        return str(value)
    return f"{value} {unit}"


def format_count(n: float | None) -> str:
    """``1234567`` -> ``1.2M``."""
    if n is None:
        return "-"
    for unit, factor in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= factor:
            return f"{n / factor:.1f}{unit}"
    return f"{n:.0f}" if isinstance(n, float) else str(n)


def format_position(seconds: float) -> str:
    """A place in a replay as ``g`` takes it back: seconds under ten minutes, else m:ss."""
    if seconds < 600:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
