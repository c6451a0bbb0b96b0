"""The policies by name, and a policy from a name or a policy file."""

from __future__ import annotations

from pathlib import Path

from qmigtui.policy import objectives as objectives_file
from qmigtui.policy.objectives import Objectives
from qmigtui.policy.ours import Qmigtui
from qmigtui.policy.presets import KubeVirt, KubeVirtStall, Nothing, Nova, OVirt, Preset, Proxmox

POLICIES: dict[str, type[Preset]] = {p.name: p for p in (Qmigtui, Nova, KubeVirt, KubeVirtStall,
                                                          OVirt, Proxmox, Nothing)}
DEFAULT = Qmigtui.name


def make(name_or_file: str, base: Objectives | None = None) -> Preset:
    """A fresh policy: a name (qmigtui, nova, kubevirt, kubevirt-stall, ovirt, proxmox, none)
    with ``base`` objectives, or a TOML policy file; ValueError with one line otherwise."""
    if name_or_file in POLICIES:
        return POLICIES[name_or_file](base or Objectives())
    path = Path(name_or_file)
    if not path.suffix == ".toml" and not path.exists():
        raise ValueError(f"no such policy {name_or_file!r}; known: {', '.join(POLICIES)} "
                         "or a policy file (.toml)")
    name, objectives = objectives_file.load(path)
    if name not in POLICIES:
        raise ValueError(f"{path}: policy: no such policy {name!r}; known: {', '.join(POLICIES)}")
    return POLICIES[name](objectives)
