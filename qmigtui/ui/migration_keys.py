"""The migration actions: m p z r n x, each asked for, re-checked and reported."""

from __future__ import annotations

from textual.binding import Binding

from qmigtui.model import cpr
from qmigtui.model.recovery import RecoveryAddresses
from qmigtui.ui.app_base import AppBase, actions_of
from qmigtui.ui.dialogs import Confirm, RecoverPostcopy, StartChoice, StartMigration


class MigrationKeys(AppBase):
    """The migration actions: m p z r n x, each asked for, re-checked and reported."""

    BINDINGS = [
        Binding("m", "migrate", "Migrate", id="migrate"),
        Binding("p", "postcopy", "Postcopy", id="postcopy"),
        Binding("z", "pause", "Pause", id="pause"),
        Binding("r", "recover", "Recover", id="recover"),
        Binding("n", "continue", "Continue", id="continue"),
        Binding("x", "cancel", "Cancel", id="cancel"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Allowed now (the desk's rules over the snapshot): shown; not allowed: greyed, or
        hidden at 80 columns; a recording cannot be acted on."""
        if action not in actions_of(MigrationKeys):
            return super().check_action(action, parameters)
        desk = self.desk
        if desk is None:
            return None
        if desk.player is not None:
            return False
        if desk.can(action).ok:
            return True
        return False if self.has_class("-narrow") else None

    def action_migrate(self) -> None:
        if not self._explain("migrate"):
            return
        desk = self.desk
        assert desk is not None
        peer = desk.manager_peer
        default = "" if peer is not None else desk.suggested_migrate_uri

        def chosen(choice: StartChoice | None) -> None:
            if choice is None or (not choice.uri and peer is None):
                return
            request = choice.request or cpr.StartRequest(choice.uri)
            mode = request.mode
            runs = (request.exec_command if mode == cpr.EXEC
                    else choice.uri[5:] if choice.uri.startswith("exec:") else None)
            if runs is not None:  # QEMU runs a program: the operator sees it and says yes
                def confirmed(yes: bool | None) -> None:
                    if yes:
                        self._start(choice)
                question = ("The source QEMU will exec this in its place (cpr-exec):"
                            if mode == cpr.EXEC else "QEMU will run this command on the source host:")
                self.push_screen(Confirm(question, runs), confirmed)
                return
            self._start(choice)
        self.push_screen(StartMigration(default, desk.has_side("destination"), peer,
                                        exit_on_error=desk.incoming_exit_on_error,
                                        modes=desk.migration_modes, mode=desk.migration_mode),
                         chosen)

    def _start(self, choice: StartChoice) -> None:
        desk = self.desk
        assert desk is not None
        mode = f" ({choice.request.mode})" if choice.request and choice.request.mode != cpr.NORMAL else ""
        self._run("migrate", lambda: desk.start_migration(choice.uri, choice.exit_on_error, choice.request),
                  f"migration started to {choice.uri or desk.manager_peer}{mode}")

    def action_postcopy(self) -> None:
        assert self.desk is not None
        self._confirm_then("postcopy", "Switch to postcopy?",
                           "The guest resumes on the destination; from then on a network failure "
                           "pauses it until recovered.\nsends: migrate-start-postcopy",
                           self.desk.start_postcopy, "switched to postcopy")

    def action_pause(self) -> None:
        assert self.desk is not None
        self._confirm_then("pause", "Pause the postcopy migration?",
                           f"sends: migrate-pause (source); recover with {self.key_for('recover')}",
                           self.desk.pause, "pause sent")

    def action_recover(self) -> None:
        """Both steps in one dialog, prefilled with real addresses (editable); sent in order."""
        desk = self.desk
        assert desk is not None
        if not self._explain("recover"):
            return
        if desk.manager_peer is not None:  # libvirt recovers both sides with one migrate call
            self._confirm_then("recover", "Recover the paused postcopy through libvirt?",
                               f"libvirt prepares the destination again and resumes the stream.\n"
                               f"sends: migrate with the resume flag (libvirt, to "
                               f"{desk.manager_peer or 'no --dest-connect'})",
                               desk.recover, "recovery sent; watch for postcopy-active")
            return

        def chosen(addresses: RecoveryAddresses | None) -> None:
            if addresses is not None:
                self._run("recover", lambda: desk.recover(addresses),
                          "recovery sent; watch for postcopy-active")
        self.push_screen(RecoverPostcopy(desk.recovery_addresses(), desk.has_side("destination")),
                         chosen)

    def action_continue(self) -> None:
        assert self.desk is not None
        if self._explain("continue"):
            self._run("continue", self.desk.continue_, "continue sent")

    def action_cancel(self) -> None:
        assert self.desk is not None
        self._confirm_then("cancel", "Cancel the migration?",
                           "The guest keeps running on the source.\nsends: migrate_cancel",
                           self.desk.cancel, "cancel sent")
