"""QMP: endpoints, the session over qemu.qmp, and what a QEMU supports (its schema)."""
