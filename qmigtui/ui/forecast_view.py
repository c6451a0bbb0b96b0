"""The reasoning behind the verdict: the numbers used, recovery steps, and every remedy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from qmigtui.analysis.verdict import Forecast, Verdict
from qmigtui.model import units
from qmigtui.ui.forecast_words import (
    KeyFor,
    default_key,
    eta_text,
    explain,
    reasons,
    recovery_steps,
    remedy_label,
    remedy_why,
    summary,
)
from qmigtui.ui.styles import themed
from qmigtui.watch.snapshot import DirtyRate

VERDICT_STYLE = {  # by theme role: the colours follow the theme
    Verdict.CONVERGING: "bold $success", Verdict.FIRST_PASS: "bold $success",
    Verdict.ESTIMATING: "bold $primary",
    Verdict.AT_RISK: "bold $warning", Verdict.THROTTLING: "bold $warning",
    Verdict.NOT_CONVERGING: "bold $error", Verdict.STALLED: "bold $error",
    Verdict.PAUSED: "bold reverse $error", Verdict.RECOVERING: "bold $warning",
    Verdict.POSTCOPY: "bold $secondary", Verdict.SWITCHOVER: "bold $warning",
    Verdict.COMPLETED: "bold $success", Verdict.FAILED: "bold $error",
}


def verdict_text(f: Forecast, variables: Mapping[str, str], key_for: KeyFor = default_key) -> Text:
    """``[not-converging] guest dirties …`` for the status pane and the detail view, in the
    colours of the theme whose ``variables`` are given."""
    return Text.assemble((f" {f.verdict} ", themed(VERDICT_STYLE.get(f.verdict, "bold"), variables)),
                         " ", summary(f, key_for))


class ForecastView(ModalScreen["int | None"]):
    """Press a remedy's number to do it (after the usual confirmation); escape to close."""

    DEFAULT_CSS = """
    ForecastView { align: center middle; }
    ForecastView > VerticalScroll {
        width: 90%; max-width: 110; height: auto; max-height: 90%; padding: 1 2;
        border: thick $primary; background: $surface;
    }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,e,q", "dismiss(None)", "Close"),
        *(Binding(str(n), f"pick({n})", show=False) for n in range(1, 10))]

    def __init__(self, forecast: Forecast, plan: list[str] | None = None,
                 measurements: tuple[DirtyRate, ...] = (), remedies: bool = True):
        super().__init__()
        self.forecast, self.plan, self.measurements = forecast, plan or [], measurements
        self.remedies = remedies  # off in an exercise with --no-hints

    def compose(self) -> ComposeResult:
        f = self.forecast
        with VerticalScroll():
            key_for = getattr(self.app, "key_for", default_key)
            yield Static(verdict_text(f, self.app.theme_variables, key_for), id="why-verdict", markup=False)
            line = " · ".join(x for x in (
                eta_text(f),
                (f"downtime needs {units.format_ms(f.downtime_ms)}" if f.converging is False else
                 f"downtime ≤ {units.format_ms(f.downtime_ms)} at this bandwidth")
                if f.downtime_ms is not None else "",
                f"limit {units.format_ms(f.downtime_limit_ms)}" if f.downtime_limit_ms is not None else "")
                if x)
            if line:
                yield Static(line, markup=False)
            numbers = reasons(f)
            if numbers:
                table = Table.grid(padding=(0, 2))
                table.add_column(style="dim", no_wrap=True)
                table.add_column()
                for label, value in numbers:
                    table.add_row(Text(label), Text(value))
                yield Static(Text("\nnumbers used", style="bold"), markup=False)
                yield Static(table, id="why-reasons", markup=False)
            if steps_list := recovery_steps(f, key_for):
                steps = "\n".join(f"{i}. {s}" for i, s in enumerate(steps_list, 1))
                yield Static(Text("\nrecovery", style="bold"), markup=False)
                yield Static(steps + ("\n" + "\n".join(self.plan) if self.plan else ""), markup=False)
            if self.measurements:
                rows = [f"{units.format_rate(m.bytes_per_s)} over {m.seconds:g} s ({m.side}, {m.mode})"
                        for m in self.measurements[-5:]]
                yield Static(Text("\ndirty-rate measurements", style="bold"), markup=False)
                latest = [(m.seconds, m.bytes_per_s) for m in self.measurements[-3:]]
                yield Static("\n".join([explain(latest), *rows]), markup=False)
            if f.advice and self.remedies:
                yield Static(Text("\nwhat you can do (press its number)", style="bold"), markup=False)
                for i, a in enumerate(f.advice, 1):
                    yield Static(Text.assemble((f"{i}  ", "bold"), remedy_label(a),
                                               (f"  {remedy_why(a, f, key_for)}", "dim")),
                                 markup=False, classes="remedy")
            yield Static(Text("\nescape closes", style="dim"), markup=False)

    def action_pick(self, number: int) -> None:
        if self.remedies and 1 <= number <= len(self.forecast.advice):
            self.dismiss(number - 1)
