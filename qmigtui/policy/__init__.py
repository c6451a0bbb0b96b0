"""Policies that steer a migration unattended: ours, acting on the forecast's facts, and the
orchestrators' (nova, KubeVirt, oVirt, Proxmox) as they document them. Plain Python: each
takes Observations and returns Decisions (data, never sentences)."""
