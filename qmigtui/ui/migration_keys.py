"""The migration actions: m p z r n x, each asked for, re-checked and reported."""

from __future__ import annotations

from qmigtui.ui.desk import DeskBase
from qmigtui.ui.dialogs import Confirm, StartMigration


class MigrationKeys(DeskBase):
    """The migration actions: m p z r n x, each asked for, re-checked and reported."""

    def action_migrate(self) -> None:
        if not self._explain("migrate"):
            return
        assert self.backend is not None
        controller = self.backend.controller
        lab = controller.lab_link
        default = lab.migrate_uri if lab is not None else "tcp:DEST-HOST:4444"

        def chosen(uri: str | None) -> None:
            if not uri:
                return
            if uri.startswith("exec:"):
                def confirmed(yes: bool | None) -> None:
                    if yes:
                        self._start(uri)
                self.push_screen(Confirm("QEMU will run this command on the source host:", uri[5:]),
                                 confirmed)
                return
            self._start(uri)
        self.push_screen(StartMigration(default, controller.has_side("destination")), chosen)

    def _start(self, uri: str) -> None:
        assert self.backend is not None
        controller = self.backend.controller
        self._run("migrate", lambda: controller.start_migration(uri), f"migration started to {uri}")

    def action_postcopy(self) -> None:
        assert self.backend is not None
        c = self.backend.controller
        self._confirm_then("postcopy", "Switch to postcopy?",
                           "The guest resumes on the destination; from then on a network failure "
                           "pauses it until recovered.\nsends: migrate-start-postcopy",
                           c.start_postcopy, "switched to postcopy")

    def action_pause(self) -> None:
        assert self.backend is not None
        c = self.backend.controller
        self._confirm_then("pause", "Pause the postcopy migration?",
                           "sends: migrate-pause (source); recover with r", c.pause, "pause sent")

    def action_recover(self) -> None:
        assert self.backend is not None
        c = self.backend.controller
        plan = "\n".join(c.recovery_plan())
        if not c.has_side("destination"):
            self.notify("Recovery needs the destination too. Run there, then here:\n" + plan,
                        title="Recover", timeout=60)
            return
        self._confirm_then("recover", "Recover the paused postcopy? In this order:", plan,
                           c.recover, "recovery sent; watch for postcopy-active")

    def action_continue(self) -> None:
        assert self.backend is not None
        c = self.backend.controller
        if self._explain("continue"):
            self._run("continue", c.continue_, "continue sent")

    def action_cancel(self) -> None:
        assert self.backend is not None
        c = self.backend.controller
        self._confirm_then("cancel", "Cancel the migration?",
                           "The guest keeps running on the source.\nsends: migrate_cancel",
                           c.cancel, "cancel sent")
