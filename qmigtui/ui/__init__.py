"""The Textual app: panes, dialogs and key bindings. Renders Snapshots, calls control ops."""

import os

# A change of state waits for the next tick of Textual's frame clock before it is drawn: 60 Hz
# by default (up to 17 ms), 120 Hz halves the wait.  Frames are drawn only when something
# changed, so watching costs no more.  Set before Textual is imported; TEXTUAL_FPS overrides.
os.environ.setdefault("TEXTUAL_FPS", "120")
