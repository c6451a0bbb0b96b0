"""qmigtui: a terminal monitor and control desk for QEMU live migration."""

__version__ = "0.1.0"
