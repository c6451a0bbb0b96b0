"""The lab: a real source and destination QEMU on this machine, with a link that can be cut."""

from qmigtui.lab.pair import Lab, LabConfig

__all__ = ["Lab", "LabConfig"]
