"""The fleet in the app: open many migrations, show the fleet view first, drill down into one
VM's desk with Enter, come back with Escape."""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.binding import Binding

from qmigtui.desk.facade import Desk
from qmigtui.desk.fleet import Fleet
from qmigtui.ui.fleet_screen import FleetScreen
from qmigtui.ui.rendering import Rendering

FleetFactory = Callable[[], Fleet]


class FleetKeys(Rendering):
    """Fleet mode: the fleet view is the first screen; each VM keeps its own desk."""

    BINDINGS = [Binding("escape", "fleet", "Fleet", id="fleet", show=False)]

    fleet: Fleet | None
    fleet_factory: FleetFactory | None

    def open_fleet(self) -> None:
        """The fleet view at once, its rows "connecting" until each VM's desk is open."""
        assert self.fleet_factory is not None
        self.fleet = fleet = self.fleet_factory()
        self.install_screen(FleetScreen(fleet), name="fleet")
        self.push_screen("fleet")
        self._open_members(fleet)

    @work(exclusive=True, group="fleet", exit_on_error=False)
    async def _open_members(self, fleet: Fleet) -> None:
        await fleet.open_all()

    def on_fleet_screen_open(self, message: FleetScreen.Open) -> None:
        """Enter on a row: that VM's desk on the main screen."""
        desk = message.member.desk
        assert desk is not None
        self.pop_screen()
        self.show_desk(desk)

    def show_desk(self, desk: Desk) -> None:
        """Render this desk from now on (the others keep watching in the background)."""
        if desk is self.desk:
            return
        self.snapshot = None
        self._told.clear()
        if id(desk) in self._watched:
            self.desk = desk
            self._on_snapshot(desk.snapshot)
            return
        self._watched.add(id(desk))
        self.attach(desk)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "fleet":
            return self.fleet is not None
        return super().check_action(action, parameters)

    def action_fleet(self) -> None:
        """Escape on a VM's desk: back to the fleet view."""
        if self.fleet is not None and "fleet" not in [s.name for s in self.screen_stack if s.name]:
            self.push_screen("fleet")

    def let_go(self, fast: bool = False) -> None:
        """Let go of every desk at once, synchronously (the app's loop is gone or going): the
        one shown, and in fleet mode every VM's; ``fast`` (a hang-up) gives a lab's QEMUs no
        more than a moment before they are killed."""
        desks = [m.desk for m in self.fleet.members] if self.fleet is not None else []
        for desk in [*desks, self.desk]:
            if desk is not None:
                desk.let_go(fast)

    async def close_fleet(self) -> None:
        if self.fleet is not None:
            fleet, self.fleet = self.fleet, None
            await fleet.close()
