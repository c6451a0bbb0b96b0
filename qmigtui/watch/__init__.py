"""The Watcher: owns the endpoint sessions, polls and listens, and publishes Snapshots."""
