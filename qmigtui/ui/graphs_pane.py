"""Pane 2: throughput, remaining, dirty rate and expected downtime over time (plotext).

plotext keeps global state, so it is only called from the app's thread; a plot
is rebuilt only when new samples arrived or the pane changed size.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import plotext as plt
from rich.style import Style
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from qmigtui.analysis.history import HistoryView
from qmigtui.model import units
from qmigtui.ui.dialogs import DIALOG_CSS
from qmigtui.ui.pane import Pane, PaneSpec
from qmigtui.ui.styled_lines import Run, StyledLines
from qmigtui.ui.styles import themed
from qmigtui.watch.snapshot import Snapshot

MIB = 1024 * 1024
GRAPH_ROLES = ("$primary", "$success", "$error", "$warning", "$secondary", "$accent")  # in turn


@dataclass(frozen=True)
class GraphSpec:
    title: str
    series: Callable[[HistoryView], list[float]]
    unit: Callable[[float], str]
    scale: float = 1.0
    optional: bool = False  # shown only when QEMU reports it


GRAPHS = (
    GraphSpec("throughput MiB/s", lambda h: h.throughput(), units.format_rate, MIB),
    GraphSpec("remaining MiB", lambda h: h.series("remaining"), units.format_bytes, MIB),
    GraphSpec("dirty rate MiB/s", lambda h: h.dirty_bytes_rate(), units.format_rate, MIB),
    GraphSpec("expected downtime ms", lambda h: h.series("expected_downtime"), units.format_ms),
    GraphSpec("cpu throttle %", lambda h: h.series("throttle"), lambda v: f"{v:.0f} %", 1, True),
    GraphSpec("xbzrle cache miss rate", lambda h: h.series("xbzrle_cache_miss_rate"),
              lambda v: f"{v:.2f}", 1, True),
    GraphSpec("xbzrle encoding rate", lambda h: h.series("xbzrle_encoding_rate"),
              lambda v: f"{v:.2f}", 1, True),
    GraphSpec("xbzrle overflow", lambda h: h.series("xbzrle_overflow"), lambda v: f"{v:.0f}", 1, True),
    GraphSpec("compression rate", lambda h: h.series("compression_rate"), lambda v: f"{v:.2f}", 1, True),
    GraphSpec("multifd MiB", lambda h: h.series("multifd_bytes"), units.format_bytes, MIB, True),
    GraphSpec("vfio transferred MiB", lambda h: h.series("vfio_transferred"), units.format_bytes, MIB, True),
    GraphSpec("page requests /s", lambda h: h.rate("postcopy_requests"), lambda v: f"{v:.0f}/s", 1, True),
    GraphSpec("postcopy blocktime ms", lambda h: h.series("postcopy_blocktime"), units.format_ms, 1, True),
    GraphSpec("postcopy fault wait us", lambda h: h.series("postcopy_latency"), units.format_ns, 1000, True),
    GraphSpec("transferred MiB", lambda h: h.series("transferred"), units.format_bytes, MIB, True),
    GraphSpec("pass", lambda h: h.series("dirty_sync_count"), lambda v: f"{v:.0f}", 1, True),
    GraphSpec("QEMU's mbps", lambda h: h.series("mbps"), lambda v: f"{v:.0f} Mbit/s", 1, True),
)
# shown until the operator chooses (s): the four that always matter, then those with data
DEFAULT = (*(s.title for s in GRAPHS[:11]), "page requests /s", "postcopy blocktime ms",
           "postcopy fault wait us")
BOLD, BOLD_REVERSE, DIM = Style(bold=True), Style(bold=True, reverse=True), Style(dim=True)
SUBTITLE = "x: seconds since the start · s: series"
CLIP = 1.5  # a spike beyond this many times the 95th percentile is clipped (and the title says so)


def clip_top(values: list[float]) -> float | None:
    """Where to cut the y axis so one spike (445 MiB/s at the postcopy switch) does not flatten
    the rest, or None when nothing sticks out that far."""
    finite = sorted(v for v in values if math.isfinite(v))
    if len(finite) < 10:
        return None
    p95 = finite[int(len(finite) * 0.95) - 1]
    return p95 * CLIP if p95 > 0 and finite[-1] > p95 * CLIP else None


def _has_data(values: list[float]) -> bool:
    return any(not math.isnan(v) and v != 0 for v in values)


def thin(points: list[tuple[float, float]], buckets: int) -> list[tuple[float, float]]:
    """At most two points (the lowest and highest) per bucket: a plot of a few hundred columns
    looks the same from 7,200 samples or from its extremes, and costs a fraction.  A bucket a
    column: a braille cell is two dots wide, one for each."""
    if len(points) <= 2 * buckets:
        return points
    size = len(points) / buckets
    out: list[tuple[float, float]] = []
    for b in range(buckets):
        chunk = points[int(b * size):int((b + 1) * size)]
        if chunk:
            lo, hi = min(chunk, key=lambda p: p[1]), max(chunk, key=lambda p: p[1])
            out.extend(sorted({lo, hi}))
    return out


def plot_lines(xs: list[float], ys: list[float], width: int, height: int,
               top: float | None = None) -> list[str]:
    """One plot (x in seconds since the first sample) as plain lines, the y axis ending at
    ``┤`` on each line."""
    plt.clear_data()  # the figure's settings stay: only the data is new
    plt.plotsize(width, height)
    points = thin([(x, y if top is None else min(y, top)) for x, y in zip(xs, ys, strict=True)
                   if not math.isnan(y)], width)
    if points:
        plt.plot([p[0] for p in points], [p[1] for p in points], marker="braille")
        high = max(p[1] for p in points)
        low = min(0.0, min(p[1] for p in points))
        plt.ylim(low, high if high > low else low + 1)  # from zero: a flat line is not a ramp
    return plt.uncolorize(str(plt.build())).split("\n")


def _plain_figure() -> None:
    """plotext's one figure set up once for every plot: no colour, no frame, axes left and
    below (plotext keeps global state; only the app's thread calls it)."""
    plt.clear_figure()
    plt.theme("clear")
    plt.frame(False)
    plt.xaxes(True, False)
    plt.yaxes(True, False)


def styled_plot(lines: list[str], color: Style) -> list[list[Run]]:
    """The axes in the default colour, the line in ``color``: one run each, not one a
    character (plotext draws without colour; the style is put on here)."""
    out: list[list[Run]] = []
    for line in lines:
        axis = line.find("┤") + 1
        out.append([(line[:axis], None), (line[axis:], color if axis else None)])
    return out


class GraphsPane(Pane, Vertical):
    """Graphs of the source side's history (the destination's numbers mirror it)."""

    SPEC = PaneSpec("graphs", "Graphs", "2")

    MIN_PERIOD = 0.5
    DEFAULT_CSS = """
    GraphsPane { padding: 0 1; }
    GraphsPane > StyledLines { height: 1fr; }
    """

    BINDINGS = [Binding("s", "choose", "Series", id="graphs.choose")]
    can_focus = True  # for its key (s)

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.chosen: tuple[str, ...] = DEFAULT  # titles of the series to plot, in order
        self._key: tuple[object, ...] = ()
        self._snap: Snapshot | None = None
        self._drawn = 0.0  # monotonic time of the last plot
        self._pending = False

    def compose(self):  # type: ignore[no-untyped-def]
        yield StyledLines(id="graphs-body")

    def show(self, snap: Snapshot) -> None:
        """Draw the new samples, at most every MIN_PERIOD seconds: at 10 Hz sampling a plot
        a tenth of a second newer looks the same and costs as much as any."""
        self._snap = snap
        wait = self._drawn + self.MIN_PERIOD - time.monotonic()
        if wait <= 0:
            self._redraw()
        elif not self._pending:
            self._pending = True
            self.set_timer(wait, self._late_redraw)

    def action_choose(self) -> None:
        """Pick the series to plot (any numeric field of the stats, rates, throttle …)."""
        def chosen(titles: list[str] | None) -> None:
            if titles:
                self.chosen = tuple(titles)
                self._redraw()
        self.app.push_screen(ChooseSeries(self.chosen), chosen)

    def _late_redraw(self) -> None:
        self._pending = False
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def on_show(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        snap = self._snap
        if snap is None or not self.size.width or not self.display:
            return  # a hidden pane (80x24, another pane current) is drawn when shown
        history = snap.histories.get(snap.source.name)
        if history is None:
            return
        key = (history.total_seen, len(history), self.size, self.app.theme, self.chosen)
        if key == self._key:
            return
        self._key = key
        self._drawn = time.monotonic()
        body = self.query_one("#graphs-body", StyledLines)
        if len(history) < 2:
            body.set_lines([[("graphs appear once a migration is running", DIM)]])
            return
        width, height = self.size.width - 2, self.size.height
        fit = max(1, height // (6 if height < 20 else 8))
        shown: list[tuple[GraphSpec, list[float]]] = []
        by_title = {s.title: s for s in GRAPHS}
        for spec in (by_title[t] for t in self.chosen if t in by_title):
            if len(shown) == fit:  # each series computed once, and only until the pane is full
                break
            raw = spec.series(history)
            if not spec.optional or _has_data(raw):
                shown.append((spec, raw))
        if not shown:
            body.set_lines([[("no chosen series has data yet; s chooses", DIM)]])
            return
        each = max(4, height // len(shown))
        t = history.series("t")
        xs = [x - t[0] for x in t]
        colors = [Style(color=themed(role, self.app.theme_variables)) for role in GRAPH_ROLES]
        lines: list[list[Run]] = []
        _plain_figure()
        for i, (spec, raw) in enumerate(shown):
            last = next((v for v in reversed(raw) if not math.isnan(v)), math.nan)
            label = "-" if math.isnan(last) else spec.unit(last)
            ys = [v / spec.scale for v in raw]
            top = clip_top(ys)
            title: list[Run] = [(spec.title, BOLD), ("  now ", None), (label, BOLD_REVERSE)]
            if top is not None:
                title.append((f"  (clipped at {spec.unit(top * spec.scale)})", DIM))
            lines.append(title)
            lines += styled_plot(plot_lines(xs, ys, width, each - 1, top), colors[i % len(colors)])
        if self.border_subtitle != SUBTITLE:  # setting it repaints the whole pane
            self.border_subtitle = SUBTITLE
        body.set_lines(lines)


class ChooseSeries(ModalScreen["list[str] | None"]):
    """A list of every series, the chosen ones ticked; enter keeps the choice, escape drops it."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "dismiss(None)", "Cancel"), Binding("enter", "keep", "Keep", priority=True)]

    def __init__(self, chosen: tuple[str, ...]):
        super().__init__()
        self.chosen = chosen

    def compose(self):  # type: ignore[no-untyped-def]
        with Vertical():
            yield Static("Series to plot (space ticks, enter keeps):", markup=False)
            yield SelectionList[str](*((s.title, s.title, s.title in self.chosen) for s in GRAPHS),
                                     id="series")

    def action_keep(self) -> None:
        picked = set(self.query_one("#series", SelectionList).selected)
        self.dismiss([s.title for s in GRAPHS if s.title in picked])
