"""Recording QMP traffic to JSON Lines, and replaying it as if QEMU were there."""
