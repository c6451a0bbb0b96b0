"""A Story as one self-contained HTML page: plots drawn by Plotly (its script inlined, so the
file opens with no network) and the summary as tables. Every text from the recording is
escaped: the page holds no markup of QEMU's or a recording's making."""

from __future__ import annotations

import html
import json
import math
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from qmigtui.model import units
from qmigtui.report.story import Mark, Story

MiB = float(1 << 20)
ROWS = (("remaining", "left to send (MiB)"), ("rates", "MiB/s"), ("throttle", "throttle (%)"),
        ("postcopy_requests", "page requests"), ("verdict", "verdict"))
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } code { font-size: 0.9em; }
"""


def render(story: Story) -> str:
    """The whole page."""
    figure = _figure(story)
    plot = figure.to_html(include_plotlyjs=True, full_html=False, div_id="migration",
                          config={"displaylogo": False, "responsive": True})
    title = f"qmigtui report: {story.path}"
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>", _summary(story),
        f"<p>{_e(story.warning)}</p>" if story.warning else "",
        "<h2>The migration</h2>", plot, "<h2>What was sent, and by whom</h2>", _acts(story),
        "<h2>States and verdicts</h2>", _changes(story), "</body></html>"])


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _figure(story: Story) -> go.Figure:
    fig = make_subplots(rows=len(ROWS), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[label for _, label in ROWS])
    s, t = story.series, story.t
    mib = lambda values: [v / MiB if math.isfinite(v) else None for v in values]  # noqa: E731
    plain = lambda values: [v if math.isfinite(v) else None for v in values]  # noqa: E731
    fig.add_trace(go.Scatter(x=t, y=mib(s.get("remaining", [])), name="left to send"), row=1, col=1)
    fig.add_trace(go.Scatter(x=t, y=mib(s.get("throughput", [])), name="throughput"), row=2, col=1)
    fig.add_trace(go.Scatter(x=t, y=mib(s.get("dirty_rate", [])), name="dirty rate"), row=2, col=1)
    fig.add_trace(go.Scatter(x=t, y=plain(s.get("throttle", [])), name="throttle"), row=3, col=1)
    fig.add_trace(go.Scatter(x=t, y=plain(s.get("postcopy_requests", [])), name="page requests"),
                  row=4, col=1)
    verdicts = story.of("verdict")
    end = t[-1] if t else 0.0
    fig.add_trace(go.Scatter(x=[m.t for m in verdicts] + [end], y=[m.text for m in verdicts]
                             + ([verdicts[-1].text] if verdicts else []),
                             mode="lines+markers", line_shape="hv", name="verdict"), row=5, col=1)
    acts = story.of("sent") + story.of("decision")
    if acts:
        fig.add_trace(go.Scatter(
            x=[m.t for m in acts], y=[_y_at(story, m.t) for m in acts], mode="markers",
            marker={"symbol": "diamond", "size": 11}, name="acts",
            hovertext=[_act_text(m) for m in acts], hoverinfo="text+x"), row=1, col=1)
    for m in story.of("pass"):
        fig.add_vline(x=m.t, line_width=1, line_dash="dot", line_color="#bbb")
    for m in story.of("status"):
        if m.side == "source":
            fig.add_vline(x=m.t, line_width=1, line_color="#888", annotation_text=m.text,
                          annotation_position="top left", annotation_font_size=10)
    fig.update_layout(height=1100, hovermode="x unified", margin={"t": 60, "l": 60, "r": 20},
                      legend={"orientation": "h", "y": -0.05})
    fig.update_xaxes(title_text="seconds from the start of the recording", row=len(ROWS), col=1)
    return fig


def _y_at(story: Story, t: float) -> float | None:
    """The remaining bytes (MiB) at a time: where an act sits on the first plot."""
    left = story.series.get("remaining", [])
    best = min(range(len(story.t)), key=lambda k: abs(story.t[k] - t), default=None)
    value = left[best] if best is not None and best < len(left) else math.nan
    return value / MiB if math.isfinite(value) else 0.0


def _act_text(m: Mark) -> str:
    if m.kind == "decision":
        d = m.detail
        value = d.get("value") if d.get("value") is not None else ""
        return f"autopilot: {m.text} {d.get('target') or ''} {value} ({d.get('why')}) -> {d.get('outcome')}"
    return f"{m.by or 'sent'}: {m.side} {m.text} {json.dumps(m.detail.get('arguments') or {})}"


def _summary(story: Story) -> str:
    rows = []
    for side, tot in story.totals.items():
        ms = [units.format_ms(_num(tot.get(k))) for k in ("total-time", "setup-time", "downtime")]
        size = [units.format_bytes(_num(tot.get(k))) for k in ("transferred", "total")]
        rows.append([side, story.qemu.get(side, "?"), tot.get("status"), *ms,
                     _count(tot.get("passes")), *size, _count(tot.get("postcopy-requests"))])
    return _table(["side", "QEMU", "status", "total time", "setup time", "downtime", "passes",
                   "sent", "guest RAM", "page requests"], rows)


def _acts(story: Story) -> str:
    rows = []
    for m in story.marks:
        if m.kind == "sent":
            rows.append([f"{m.t:.1f} s", m.side, m.by or "not recorded", m.text,
                         json.dumps(m.detail.get("arguments") or {}), m.detail.get("answer", "")])
        elif m.kind == "decision":
            d = m.detail
            rows.append([f"{m.t:.1f} s", m.side, "autopilot (decided)",
                         f"{m.text} {d.get('target') or ''}".strip(),
                         json.dumps({"value": d.get("value"), "why": d.get("why")}), d.get("outcome") or ""])
    if not rows:
        return "<p>Nothing that changes a VM was sent.</p>"
    return _table(["when", "side", "by", "what", "arguments", "answer"], rows)


def _changes(story: Story) -> str:
    rows = [[f"{m.t:.1f} s", m.side, m.kind, m.text] for m in story.marks if m.kind in ("status", "verdict")]
    return _table(["when", "side", "what", "to"], rows)


def _table(head: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e('' if v is None else v)}</td>" for v in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _num(value: float | str | None) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _count(value: float | str | None) -> str:
    return str(int(value)) if isinstance(value, (int, float)) and math.isfinite(value) else "-"
