"""A widget that shows lines of already-styled runs as they are: no markup, no wrapping, no Rich
rendering on the way. For content redrawn every second (the plots), where a Static's Rich
round trip (measure, wrap, render to segments) cost more than drawing the plot itself."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

Run = tuple[str, Style | None]  # a piece of text and its style (None: the widget's own)


class StyledLines(Widget):
    """Lines of runs; each line is cut or padded to the widget's width."""

    DEFAULT_CSS = "StyledLines { height: 1fr; }"

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._strips: list[Strip] = []

    @property
    def plain(self) -> str:
        """The text shown, lines joined (for tests and exports)."""
        return "\n".join(strip.text for strip in self._strips)

    def set_lines(self, lines: Sequence[Sequence[Run]]) -> None:
        """Show these lines instead (control characters never reach here: plots and labels are
        made by the app from numbers)."""
        self._strips = [Strip([Segment(text, style) for text, style in line if text])
                        for line in lines]
        self.refresh()

    def render_line(self, y: int) -> Strip:
        base, width = self.rich_style, self.size.width
        if y >= len(self._strips):
            return Strip.blank(width, base)
        return self._strips[y].apply_style(base).crop_extend(0, width, base)
