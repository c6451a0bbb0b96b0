"""Pane 1: the state of each side, its numbers, and why it failed or paused."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from qmigtui.analysis.history import HistoryView
from qmigtui.analysis.verdict import ENDED, Forecast, Verdict
from qmigtui.model import units
from qmigtui.model.members import latency_buckets, remaining
from qmigtui.model.record_paths import InfoPath
from qmigtui.model.records import InfoRecord
from qmigtui.model.states import IN_POSTCOPY, paused_on_purpose
from qmigtui.ui.forecast_view import verdict_text
from qmigtui.ui.forecast_words import default_key, eta_text, reasons, remedy_label
from qmigtui.ui.pane import Pane, PaneSpec
from qmigtui.ui.progress import ProgressTracker
from qmigtui.ui.styles import themed
from qmigtui.watch.snapshot import EventLine, SideState, Snapshot

STATUS_STYLE = {
    "none": "dim", "setup": "bold $accent", "active": "bold $primary",
    "completed": "bold $success", "failed": "bold $error", "cancelled": "bold $warning",
    "cancelling": "$warning", "postcopy-active": "bold $secondary",
    "postcopy-paused": "bold reverse $error", "postcopy-recover": "bold $warning",
    "postcopy-recover-setup": "bold $warning",
    "pre-switchover": "bold reverse $warning", "device": "bold $warning",
    "wait-unplug": "bold $warning", "colo": "bold $accent",
    "postcopy-device": "bold $secondary", "failing": "bold $error",
}
CONNECTION_STYLE = {"connected": "$success", "reconnecting": "$warning", "gone": "bold $error",
                    "connecting": "$warning", "closed": "dim"}
WAIT_UNPLUG_TEXT = ("waiting for the guest to unplug its failover primary NIC "
                    "(UNPLUG_PRIMARY comes when it is done)")


def latency_histogram(dist: list[float]) -> str:
    """QEMU's postcopy fault-wait buckets as one line of bars, from the first bucket with faults
    to the last: ``2 us ▁▃█▂ 32 us · 1234 faults``."""
    buckets = latency_buckets(dist)
    used = [i for i, (_, count) in enumerate(buckets) if count > 0]
    if not used:
        return ""
    shown = buckets[used[0]:used[-1] + 1]
    top = max(count for _, count in shown)
    bars = "".join(SPARK[min(len(SPARK) - 1, int(count / top * (len(SPARK) - 1) + 0.999))] if count
                   else " " for _, count in shown)
    faults = sum(count for _, count in buckets)
    return (f"{units.format_ns(shown[0][0] * 1000)} {bars} {units.format_ns(shown[-1][0] * 2000)}"
            f" · {faults:.0f} faults")


SPARK = "▁▂▃▄▅▆▇█"


def bar(share: float, width: int) -> str:
    filled = round(share * width)
    return "█" * filled + "░" * (width - filled)


def hanging(label: str, text: str, style: str, width: int) -> list[Text]:
    """``  label: text`` wrapped to ``width`` with its continuation lines indented under the
    text, never back to column 0."""
    indent = 2 + len(label)
    room = max(10, width - indent)
    chunks = textwrap.wrap(text, room, break_long_words=True, break_on_hyphens=False) or [""]
    return [Text(("  " + label if n == 0 else " " * indent) + chunk, style=style)
            for n, chunk in enumerate(chunks)]


GUEST_EVENTS = {"GUEST_PANICKED": "panicked", "SHUTDOWN": "shut down"}


def guest_fate(events: tuple[EventLine, ...], side: str) -> str:
    """The guest's death on this side (panic, shutdown, reset), from the events, or ''."""
    for e in reversed(events):
        if e.side != side:
            continue
        if e.name == "MIGRATION" and e.data.get("status") == "setup":
            return ""  # a new migration since
        if e.name in GUEST_EVENTS:
            reason = e.data.get("reason")
            return GUEST_EVENTS[e.name] + (f" ({reason})" if isinstance(reason, str) else "")
    return ""


def columns(rows: list[tuple[str, str]], width: int) -> list[Text]:
    """Label/value pairs two to a line when they fit in ``width`` (else one), each column
    as wide as its widest cell, three spaces between the pairs."""
    for per_line in (2, 1):
        lines = [rows[i:i + per_line] for i in range(0, len(rows), per_line)]
        widths = [max((cell_len(line[k][j]) for line in lines if len(line) > k), default=0)
                  for k in range(per_line) for j in (0, 1)]
        if sum(widths) + 2 * per_line + 3 * (per_line - 1) <= width:
            break
    out = []
    for line in lines:
        text = Text()
        for k, (label, value) in enumerate(line):
            if k:
                text.append(" " * (widths[1] - cell_len(line[0][1]) + 3))
            text.append(label + " " * (widths[2 * k] - cell_len(label) + 2), "dim")
            text.append(value)
        out.append(text)
    return out


def _mib_s(v: float) -> str:
    return "-" if v is None or math.isnan(v) else units.format_rate(v)


class StatusPane(Pane, VerticalScroll):
    """Per side: connection, status, progress, every number that matters, and errors.

    Each side is one Static of plain Text lines (no Rich tables: they are measured
    again on every draw), and a side whose text did not change is not drawn again.
    """

    SPEC = PaneSpec("status", "Status", "1")

    DEFAULT_CSS = """
    StatusPane { padding: 0 1; scrollbar-gutter: stable; }
    StatusPane > Static { width: 1fr; }
    """
    SIDES = 2  # source and destination

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._trackers: dict[str, ProgressTracker] = {}
        self.lab_note: Callable[[str], str] | None = None
        self.exercise_task: str | None = None  # shown above the source while an exercise runs
        self.hints = True  # the first remedy shown (off: --no-hints)
        self.plan = ""  # the autopilot's latest decision, in words, under the source's forecast
        self._texts: list[Text] = []
        self._height = [0] * self.SIDES
        self._shown: Snapshot | None = None
        self._width = 0
        self._refit = False  # the rows of a change of state drawn at once are fitted next

    @property
    def rendered(self) -> Group:
        """What the pane shows, every side."""
        return Group(*self._texts)

    def compose(self):  # type: ignore[no-untyped-def]
        for i in range(self.SIDES):
            yield Static(id=f"status-side-{i}", classes="side", markup=False)

    def on_resize(self) -> None:
        if self._shown is not None:  # the lines are laid out for a width
            self.show(self._shown)

    def show(self, snap: Snapshot, at_once: bool = False) -> None:
        """Draw the sides. ``at_once``: a change of state drawn in a frame of its own, in the
        rows each side has now (a new layout repaints the whole screen, and would delay it);
        the rows are fitted in the next draw."""
        width = self.scrollable_content_region.width
        if snap is self._shown and width == self._width and not (self._refit and not at_once):
            return  # drawn already (a change of state is drawn before the other panes)
        moved = self._shown is None or [s.status for s in self._shown.sides] != [s.status for s in snap.sides]
        # lines wrap anew at another width; a new state gives back rows it no longer needs
        # (blocktime must not fall below the fold)
        fit = width != self._width or moved or self._refit
        if snap is not self._shown or width != self._width:
            texts = [self._side(side, snap.histories.get(side.name),
                                snap.forecast if side is snap.source else None, snap.events)
                     for side in snap.sides]
        else:
            texts = self._texts
        self._shown, self._width, self._refit = snap, width, False
        for i, body in enumerate(self.query(".side").results(Static)):
            text = texts[i] if i < len(texts) else None
            body.display = text is not None
            if text is None or (not fit and i < len(self._texts) and text == self._texts[i]):
                continue
            # a side keeps the most rows it has needed: the blocks do not jump as lines come
            # and go, and a new layout (it costs a whole screen) is needed only when it grows
            rows = self._rows_of(text, width)
            height = rows if fit else max(rows, self._height[i])
            if height != self._height[i] and at_once:
                height, self._refit = self._height[i], True
            layout = height != self._height[i]
            self._height[i] = height
            body.update(text + "\n" * max(0, height - rows), layout=layout)
        self._texts = texts

    def _rows_of(self, text: Text, width: int) -> int:
        """Screen rows ``text`` takes at ``width`` (only the long lines are wrapped to count)."""
        lines = text.split("\n")
        long = [line for line in lines if cell_len(line.plain) > width]
        return len(lines) - len(long) + sum(len(line.wrap(self.app.console, max(width, 1)))
                                            for line in long)

    def _style(self, key: str, table: dict[str, str]) -> str:
        return themed(table.get(key, "bold"), self.app.theme_variables)

    def _side(self, side: SideState, history: HistoryView | None, forecast: Forecast | None,
              events: tuple[EventLine, ...] = ()) -> Text:
        status = side.status
        title = Text.assemble(
            (f"{side.name.upper():<12}", "bold"),
            (f" {status} ", self._style(status, STATUS_STYLE)),
            "  ",
            (f"● {side.connection}", self._style(side.connection, CONNECTION_STYLE)),
        )
        version = f"  QEMU {side.qemu_version}" if side.qemu_version else ""
        version += f" via {side.via}" if side.via and version else ""
        if title.cell_len + len(version) <= self.scrollable_content_region.width:  # else it is left out
            title.append(version, "dim")
        lines: list[Text] = [title]
        if self.exercise_task and side.name == "source":
            lines.insert(0, Text(f"TASK  {self.exercise_task}", style="bold"))
        if side.reason and side.connection != "connected":
            lines.append(Text(f"  {side.reason}", style=self._style("failed", STATUS_STYLE)))
        if side.error:
            lines.append(Text(f"  poll: {side.error}", style=self._style("cancelled", STATUS_STYLE)))
        lines += [Text(f"  no {limit}", style="dim") for limit in side.limits]
        info = side.info
        if info is None:
            return Text("\n").join([*lines, Text("")])
        progress = self._trackers.setdefault(side.name, ProgressTracker()).update(info)
        width = max(10, min(30, self.size.width - 44))
        if info.child("ram") is not None and status != "none":
            left = units.format_bytes(remaining(info))
            words = {"done": " all sent", "stopped": f" stopped with {left} not sent"}.get(
                progress.label, f" {progress.share * 100:5.1f}% of {progress.label} · {left} left")
            lines.append(Text.assemble(
                ("  ", ""), (bar(progress.share, width), self._style(status, STATUS_STYLE)), words))
        if forecast is not None and forecast.verdict not in ENDED and forecast.verdict is not Verdict.IDLE:
            lines.extend(self._forecast_lines(forecast))
        if self.plan and side.name == "source":
            lines.append(Text(f"  {self.plan}", style="bold"))
        lines.extend(columns(self._rows(info, history), self.scrollable_content_region.width))
        lines += self._notes(side, info, events)
        return Text("\n").join([*lines, Text("")])

    def _notes(self, side: SideState, info: InfoRecord, events: tuple[EventLine, ...]) -> list[Text]:
        """What stops or slows the migration, in QEMU's words, and the members not known."""
        wide = self.scrollable_content_region.width
        lines: list[Text] = []
        status = side.status
        blocked = info.texts("blocked-reasons")
        if blocked:
            lines += hanging("blocked: ", "; ".join(blocked), "bold", wide)
        if status == "wait-unplug":
            lines += hanging("", WAIT_UNPLUG_TEXT, "", wide)
        guest = guest_fate(events, side.name)
        if guest:
            lines += hanging("guest: ", guest, self._style("failed", STATUS_STYLE), wide)
        error = info.text("error-desc")
        if error and paused_on_purpose(error):
            lines += hanging("paused on purpose: ", error, self._style("cancelled", STATUS_STYLE), wide)
        elif error:
            lines += hanging("error: ", error, self._style("failed", STATUS_STYLE), wide)
        elif status in ("postcopy-paused", "failed") and self.lab_note is not None:
            note = self.lab_note(side.name)
            if note:
                lines += hanging("QEMU said: ", note, self._style("failed", STATUS_STYLE), wide)
        vcpus = info.numbers("postcopy-vcpu-latency")
        if len(vcpus) > 1:
            lines += hanging("vCPU fault waits: ", ", ".join(
                f"{i} {units.format_ns(v)}" for i, v in enumerate(vcpus)), "dim", wide)
        histogram = latency_histogram(info.numbers("postcopy-latency-dist"))
        if histogram:
            lines += hanging("faults by wait: ", histogram, "", wide)
        if info.extra:
            lines += hanging("other: ", ", ".join(f"{k}={v}" for k, v in info.extra.items()),
                             "dim", wide)
        return lines

    def _forecast_lines(self, f: Forecast) -> list[Text]:
        """Verdict, ETA and the first remedy (e: the reasoning, a: do the remedy)."""
        lines: list[Text] = [Text.assemble("  ", verdict_text(f, self.app.theme_variables,
                                                           getattr(self.app, "key_for", default_key)))]
        eta = eta_text(f)
        extra = [eta] if eta else []
        if f.downtime_ms is not None and f.downtime_limit_ms is not None \
                and f.verdict is not Verdict.POSTCOPY:
            word = "switchover needs" if f.converging is False else "switchover downtime ≤"
            extra.append(f"{word} {units.format_ms(f.downtime_ms)} "
                         f"(limit {units.format_ms(f.downtime_limit_ms)})")
        if extra:
            lines.append(Text("  " + " · ".join(extra)))
        tip = f.first_remedy if self.hints else None
        if tip is not None:
            lines.append(Text.assemble("  ", ("a", "bold reverse"), f" {remedy_label(tip)}  ",
                                       ("e", "bold reverse"), " why"))
        elif reasons(f):
            lines.append(Text.assemble("  ", ("e", "bold reverse"), " why", style="dim"))
        return lines

    def _rows(self, info: InfoRecord, history: HistoryView | None) -> list[tuple[str, str]]:
        """Label and value of every number that matters, read through typed getters: a
        member of the wrong type (or absent) reads as missing, never as a crash."""
        rows: list[tuple[str, str]] = []
        num = info.number
        status = info.text("status") or "none"
        in_postcopy, ended = status in IN_POSTCOPY, status in ("completed", "cancelled", "failed")
        if info.child("ram") is not None:
            rows += _ram_rows(info, history, precopy=not in_postcopy and not ended)
        total_ms = num("total-time")
        if total_ms is None and ended and history is not None and len(history):
            last = history.latest("total_time")  # QEMU drops it after a cancel: the last one seen
            total_ms = None if math.isnan(last) else last
        rows += [(label, units.format_ms(value)) for label, value in
                 (("total time", total_ms), ("setup time", num("setup-time"))) if value is not None]
        if num("downtime") is not None:
            rows.append(("downtime", units.format_ms(num("downtime"))))
        elif num("expected-downtime") is not None and not in_postcopy and not ended:
            rows.append(("if stopped now", units.format_ms(num("expected-downtime"))))  # QEMU's guess
        sent = num("ram.transferred")
        if ended and sent and total_ms:
            rows.append(("average", units.format_rate(sent * 1000 / total_ms)))
            rows.append(("passes", str(int(num("ram.dirty-sync-count") or 1))))
        if in_postcopy and history is not None and len(history) > 1:
            asked = history.rate("postcopy_requests", last=5)[-1]
            if not math.isnan(asked):
                rows.append(("page requests", f"{asked:.0f}/s"))
        if num("cpu-throttle-percentage") is not None:
            rows.append(("cpu throttle", f"{num('cpu-throttle-percentage')} %"))
        limits: tuple[tuple[InfoPath, str], ...] = (
            ("dirty-limit-throttle-time-per-round", "dirty-limit/round"),
            ("dirty-limit-ring-full-time", "ring full"))
        for key, label in limits:
            if num(key) is not None:
                rows.append((label, f"{num(key)} us"))
        rows += _postcopy_rows(info)
        addrs = info.children("socket-address")
        if addrs:
            addr = addrs[0]
            host = addr.text("host")
            text = f"{host}:{addr.text('port')}" if host else str(addr.text("path") or addr.text("type"))
            rows.append(("socket", text))
        if info.child("xbzrle-cache") is not None:
            rows.append(("xbzrle miss", f"{(num('xbzrle-cache.cache-miss-rate') or 0) * 100:.1f} %"))
        return rows


def _ram_rows(info: InfoRecord, history: HistoryView | None, precopy: bool) -> list[tuple[str, str]]:
    """What was sent, what is left, and how fast; the dirty rate while precopy runs."""
    num = info.number
    rows = [("transferred", units.format_bytes(num("ram.transferred"))),
            ("remaining", units.format_bytes(remaining(info))),
            ("total", units.format_bytes(num("ram.total")))]
    enough = history is not None and len(history) > 1
    measured = history.throughput(last=3)[-1] if history is not None and enough else math.nan
    mbps = num("ram.mbps")
    rows.append(("throughput", units.format_rate(mbps * 1e6 / 8) if mbps is not None else "-"))
    if not math.isnan(measured):
        rows.append(("measured", _mib_s(measured)))
    page = num("ram.page-size") or 4096
    dirty_pages = num("ram.dirty-pages-rate")
    if dirty_pages is not None and precopy:
        rows.append(("dirty rate", units.format_rate(dirty_pages * page)))
        rows.append(("dirty pages", f"{units.format_count(dirty_pages)}/s"))
    return rows


def _postcopy_rows(info: InfoRecord) -> list[tuple[str, str]]:
    """Page requests, blocktime and fault waits: how much postcopy stalls the guest."""
    num = info.number
    rows: list[tuple[str, str]] = []
    requests = num("ram.postcopy-requests")
    if info.child("ram") is not None and (requests or (info.text("status") or "").startswith("postcopy")):
        rows.append(("pc requests", str(requests or 0)))
    if num("postcopy-blocktime") is not None:
        rows.append(("blocktime", units.format_ms(num("postcopy-blocktime"))))
    if num("postcopy-latency") is not None:  # 10.1+: the mean wait of a page fault
        rows.append(("fault wait", units.format_ns(num("postcopy-latency"))))
    vcpus = info.numbers("postcopy-vcpu-latency")
    if vcpus:
        rows.append(("worst vCPU wait", units.format_ns(max(vcpus))))
    return rows
