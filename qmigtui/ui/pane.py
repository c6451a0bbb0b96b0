"""What every pane is to the app: an id, a title, a key, and ``show(snapshot)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.widget import Widget

from qmigtui.watch.snapshot import Snapshot


@dataclass(frozen=True)
class PaneSpec:
    """How the app places a pane: its id, the title on its border, the key that shows it.

    ``bottom`` panes share the bottom row of the wide layout, one at a time (the first of
    them unless another is current).
    """

    id: str
    title: str
    key: str
    bottom: bool = False


class Pane:
    """Mixed into each pane widget: the app composes, keys and feeds panes only through this."""

    SPEC: ClassVar[PaneSpec]

    def show(self, snap: Snapshot) -> None:
        """Draw what this pane shows of one Snapshot (a pane with nothing to draw ignores it)."""

    def focus_target(self) -> Widget:
        """The widget that takes the focus when the pane's key is pressed."""
        assert isinstance(self, Widget)
        return self
