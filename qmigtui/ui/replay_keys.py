"""Replay keys: pause, speed, jump to a time, next state change."""

from __future__ import annotations

from textual.binding import Binding

from qmigtui.desk.facade import ReplayControl
from qmigtui.model import units
from qmigtui.ui.app_base import AppBase, actions_of
from qmigtui.ui.dialogs import AskText
from qmigtui.ui.topline import topline


class ReplayKeys(AppBase):
    """Replay keys: pause, speed, jump to a time, next state change."""

    BINDINGS = [
        Binding("space", "replay_pause", "Pause replay", id="replay-pause"),
        Binding("plus,equals_sign", "replay_speed(1)", "Faster", id="replay-faster", key_display="+"),
        Binding("minus", "replay_speed(-1)", "Slower", id="replay-slower"),
        Binding("g", "replay_jump", "Jump to", id="replay-jump"),
        Binding("right_square_bracket", "replay_next", "Next state", id="replay-next"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in actions_of(ReplayKeys):
            return self._player() is not None  # hidden unless replaying
        return super().check_action(action, parameters)

    def _player(self) -> ReplayControl | None:
        return self.desk.player if self.desk is not None else None

    def _replay_changed(self, note: str) -> None:
        if self.snapshot is not None:
            self._set_topline(topline(self.snapshot, self.desk))
        self.notify(note, timeout=3, markup=False)

    def action_replay_pause(self) -> None:
        if (player := self._player()) is not None:
            self._replay_changed("paused" if player.toggle_pause() else "playing")

    def action_replay_speed(self, step: int) -> None:
        if (player := self._player()) is not None:
            self._replay_changed(f"speed ×{player.faster(step):g}")

    def action_replay_next(self) -> None:
        if (player := self._player()) is not None:
            status = player.next_state_change()
            self._replay_changed(f"at {units.format_position(player.position)}: {status}"
                                 if status else "no state change after this in the recording")

    def action_replay_jump(self) -> None:
        player = self._player()
        if player is None:
            return

        def chosen(text: str | None) -> None:
            if not text:
                return
            try:
                target = units.parse_position(text)
            except ValueError as e:
                self.notify(str(e), severity="error", markup=False)
                return
            self._replay_changed(f"at {units.format_position(player.jump_to(target))}")
        self.push_screen(AskText("Jump to (from the start: seconds, mm:ss, or 2m):", ""), chosen)
