"""Panes 3 and 4: capabilities (toggle) and parameters (edit in place), per side."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from qmigtui.model import capabilities as capmodel
from qmigtui.model import parameters as parammodel
from qmigtui.watch.snapshot import Snapshot


def _flags(features: tuple[str, ...]) -> str:
    return " ".join(f for f in ("deprecated", "unstable") if f in features)


def _cell(value: bool | None) -> str:
    return "-" if value is None else ("on" if value else "off")


class CapabilitiesPane(DataTable):  # type: ignore[type-arg]
    """Every capability of this QEMU, on/off per side; space/enter toggles on every side."""

    BINDINGS = [
        Binding("space,enter", "flip('all')", "Toggle", id="cap.toggle"),
        Binding("s", "flip('source')", "Source only", id="cap.source"),
        Binding("d", "flip('destination')", "Dest only", id="cap.dest"),
    ]

    class Toggle(Message):
        def __init__(self, capability: str, sides: tuple[str, ...], state: bool):
            super().__init__()
            self.capability, self.sides, self.state = capability, sides, state

    def __init__(self, **kw: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)  # type: ignore[arg-type]
        self._snap: Snapshot | None = None
        self._sides: tuple[str, ...] = ()

    def show(self, snap: Snapshot) -> None:
        self._snap = snap
        sides = tuple(s.name for s in snap.sides)
        src = snap.source
        names = list(src.capability_features) or list(src.capabilities)
        if sides != self._sides:
            self.clear(columns=True)
            self.add_column("capability", key="name")
            for side in sides:
                self.add_column({"source": "src", "destination": "dst"}.get(side, side), key=side)
            self.add_column("", key="flags")
            self.add_column("what it does", key="help")
            self._sides = sides
        for name in names:
            values = [_cell(s.capabilities.get(name)) for s in snap.sides]
            flags = _flags(src.capability_features.get(name, ()))
            if name == "events" and any(v == "off" for v in values):
                flags = (flags + " turn on!").strip()
            if name in self.rows:
                for side, value in zip(sides, values, strict=True):
                    if self.get_cell(name, side) != value:
                        self.update_cell(name, side, value)
                if self.get_cell(name, "flags") != flags:
                    self.update_cell(name, "flags", flags)
            else:
                self.add_row(name, *values, flags, capmodel.describe(name), key=name)

    def action_flip(self, which: str) -> None:
        if self._snap is None or not self.row_count:
            return
        name = str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        sides = tuple(s.name for s in self._snap.sides if s.connected and name in s.capabilities)
        if which != "all":
            sides = tuple(s for s in sides if s == which)
        if not sides:
            self.app.notify(f"{name}: no connected side to change", severity="warning")
            return
        first = self._snap.side(sides[0])
        state = not (first.capabilities.get(name) if first else False)
        self.post_message(self.Toggle(name, sides, state))


class ParametersPane(DataTable):  # type: ignore[type-arg]
    """Every parameter with readable values; enter edits it, live-tunable ones are marked ●."""

    BINDINGS = [
        Binding("enter", "edit('source')", "Edit", id="param.edit"),
        Binding("d", "edit('destination')", "Edit dest", id="param.dest"),
    ]

    class Edit(Message):
        def __init__(self, name: str, side: str, current: object):
            super().__init__()
            self.name, self.side, self.current = name, side, current

    def __init__(self, **kw: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)  # type: ignore[arg-type]
        self._snap: Snapshot | None = None
        self._sides: tuple[str, ...] = ()

    def show(self, snap: Snapshot) -> None:
        self._snap = snap
        sides = tuple(s.name for s in snap.sides)
        src = snap.source
        names = list(src.parameter_features) or list(src.parameters.values if src.parameters else [])
        if sides != self._sides:
            self.clear(columns=True)
            self.add_column("parameter", key="name")
            self.add_column("", key="live")
            for side in sides:
                self.add_column({"source": "src", "destination": "dst"}.get(side, side), key=side)
            self.add_column("", key="flags")
            self._sides = sides
        for name in names:
            values = [parammodel.format_value(name, s.parameters.get(name) if s.parameters else None)
                      for s in snap.sides]
            if name in self.rows:
                for side, value in zip(sides, values, strict=True):
                    if self.get_cell(name, side) != value:
                        self.update_cell(name, side, value)
            else:
                live = "●" if parammodel.info(name).live else ""
                self.add_row(name, live, *values, _flags(src.parameter_features.get(name, ())), key=name)

    def action_edit(self, side: str) -> None:
        if self._snap is None or not self.row_count:
            return
        state = self._snap.side(side)
        if state is None:
            self.app.notify(f"no {side} endpoint", severity="warning")
            return
        name = str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        current = state.parameters.get(name) if state.parameters else None
        self.post_message(self.Edit(name, side, current))
