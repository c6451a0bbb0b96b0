"""Panes 3 and 4: capabilities (toggle) and parameters (edit in place), per side."""

from __future__ import annotations

from rich.markup import escape
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from qmigtui.model import capabilities as capmodel
from qmigtui.model import parameters as parammodel
from qmigtui.model.text import clean
from qmigtui.ui.pane import Pane, PaneSpec
from qmigtui.watch.snapshot import Snapshot


def flags_text(features: tuple[str, ...], elsewhere: bool = False) -> str:
    """The QAPI features an operator should see (deprecated, unstable), and whether another
    client changed it."""
    return " ".join([f for f in ("deprecated", "unstable") if f in features]
                    + (["set elsewhere"] if elsewhere else []))


def _cell(value: bool | None) -> str:
    return "-" if value is None else ("on" if value else "off")


SIDE_LABELS = {"source": "src", "destination": "dst"}


class SideTable(DataTable):  # type: ignore[type-arg]
    """A table with one row per name and one column per side, updated cell by cell."""

    def __init__(self, **kw: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)  # type: ignore[arg-type]
        self._snap: Snapshot | None = None
        self._sides: tuple[str, ...] = ()
        self._inputs: object = None

    def same_inputs(self, snap: Snapshot, inputs: object) -> bool:
        """Keep the snapshot; True when what the rows are made of is what it was last time (a
        poll's new numbers leave these tables as they are: no need to walk every row)."""
        self._snap = snap
        if inputs == self._inputs:
            return True
        self._inputs = inputs
        return False

    def _columns(self, snap: Snapshot, lead: tuple[tuple[str, str], ...],
                 tail: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
        """(Re)build the columns when the sides changed; return the side names."""
        self._snap = snap
        sides = tuple(s.name for s in snap.sides)
        if sides != self._sides:
            self.clear(columns=True)
            for label, key in (*lead, *((SIDE_LABELS.get(n, n), n) for n in sides), *tail):
                self.add_column(label, key=key)
            self._sides = sides
        return sides

    def _put_row(self, name: str, changing: dict[str, str], row: list[str]) -> None:
        """Update the ``changing`` cells of an existing row, or add ``row`` as a new one.

        A DataTable reads a str cell as markup: what a peer named or sent is escaped first, so
        ``[/x]`` is shown as written and ``[@click=…]`` is never a link."""
        if name not in self.rows:
            self.add_row(*(escape(cell) for cell in row), key=name)
            return
        for key, value in changing.items():
            if self.get_cell(name, key) != escape(value):  # a column grows to what it holds
                self.update_cell(name, key, escape(value), update_width=True)

    def cursor_name(self) -> str | None:
        """The name of the row under the cursor (None while the table is empty)."""
        if not self.row_count:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)


class CapabilitiesPane(Pane, SideTable):
    """Every capability of this QEMU, on/off per side; space/enter toggles on every side."""

    SPEC = PaneSpec("capabilities", "Capabilities", "3")

    BINDINGS = [
        Binding("space,enter", "flip('all')", "Toggle", id="cap.toggle"),
        Binding("s", "flip('source')", "Source only", id="cap.source"),
        Binding("d", "flip('destination')", "Dest only", id="cap.dest"),
    ]

    class Toggle(Message):
        def __init__(self, capability: str, sides: tuple[str, ...], state: bool):
            super().__init__()
            self.capability, self.sides, self.state = capability, sides, state

    def show(self, snap: Snapshot) -> None:
        if self.same_inputs(snap, [(s.name, s.capabilities, s.capability_features, s.changed_elsewhere)
                                   for s in snap.sides]):
            return
        sides = self._columns(snap, (("capability", "name"),), (("", "flags"), ("what it does", "help")))
        src = snap.source
        for name in list(src.capability_features) or list(src.capabilities):
            values = [_cell(s.capabilities.get(name)) for s in snap.sides]
            flags = flags_text(src.capability_features.get(name, ()),
                               any(name in s.changed_elsewhere for s in snap.sides))
            if name == "events" and any(v == "off" for v in values):
                flags = (flags + " turn on!").strip()
            self._put_row(name, dict(zip(sides, values, strict=True)) | {"flags": flags},
                          [name, *values, flags, capmodel.describe(name)])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """In a replay nothing can be toggled: space is the replay's pause key there too."""
        return not (action == "flip" and self.app.check_action("replay_pause", ()))

    def action_flip(self, which: str) -> None:
        name = self.cursor_name()
        if self._snap is None or name is None:
            return
        sides = tuple(s.name for s in self._snap.sides if s.connected and name in s.capabilities)
        if which != "all":
            sides = tuple(s for s in sides if s == which)
        if not sides:
            self.app.notify(f"{name}: no connected side to change", severity="warning")
            return
        first = self._snap.side(sides[0])
        state = not (first.capabilities.get(name) if first else False)
        self.post_message(self.Toggle(name, sides, state))


class ParametersPane(Pane, SideTable):
    """Every parameter with readable values; enter edits it, live-tunable ones are marked ●."""

    SPEC = PaneSpec("parameters", "Parameters", "4")

    BINDINGS = [
        Binding("enter", "edit('source')", "Edit", id="param.edit"),
        Binding("d", "edit('destination')", "Edit dest", id="param.dest"),
    ]

    class Edit(Message):
        def __init__(self, name: str, side: str, current: object, qtype: str | None):
            super().__init__()
            self.name, self.side, self.current, self.qtype = name, side, current, qtype

    def show(self, snap: Snapshot) -> None:
        """Every parameter this QEMU's schema lists, its value as QEMU reported it, and its type
        in that schema (our 8.2 tables only when the schema is not read yet)."""
        if self.same_inputs(snap, [(s.name, s.parameters, s.parameter_features, s.parameter_types,
                                    s.changed_elsewhere) for s in snap.sides]):
            return
        sides = self._columns(snap, (("parameter", "name"), ("", "live")),
                              (("", "flags"), ("type", "type")))
        src = snap.source
        for name in list(src.parameter_features) or list(src.parameters.values if src.parameters else []):
            values = [clean(parammodel.format_value(name, parammodel.value_of(s.parameters, name)), 200)
                      for s in snap.sides]
            live = "●" if parammodel.info(name).live else ""
            qtype = src.parameter_types.get(name, "")
            flags = flags_text(src.parameter_features.get(name, ()),
                               any(name in s.changed_elsewhere for s in snap.sides))
            self._put_row(name, dict(zip(sides, values, strict=True)) | {"flags": flags},
                          [name, live, *values, flags, qtype])

    def action_edit(self, side: str) -> None:
        name = self.cursor_name()
        if self._snap is None or name is None:
            return
        state = self._snap.side(side)
        if state is None:
            self.app.notify(f"no {side} endpoint", severity="warning")
            return
        current = parammodel.value_of(state.parameters, name)
        self.post_message(self.Edit(name, side, current, state.parameter_types.get(name)))
