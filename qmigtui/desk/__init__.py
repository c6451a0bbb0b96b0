"""The desk: what the UI drives (a facade over the watcher, the controller, a lab and a replay)."""
