"""The Textual app: panes, dialogs and key bindings. Renders Snapshots, calls control ops."""
