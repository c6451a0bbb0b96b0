"""Front ends: the command line, the app launcher, and the headless lab and replay runs."""
