"""When the app draws what, on a fixed synthetic Snapshot (an in-process fake, no QEMU): a
change of state first and on its own, new numbers of both sides in one frame, graphs of
fast samples at most twice a second."""

from __future__ import annotations

from dataclasses import replace

from qmigtui.analysis.history import sample_from_reply
from qmigtui.ui.events_pane import EventsPane
from qmigtui.ui.graphs_pane import GraphsPane
from qmigtui.ui.rendering import GATHER
from qmigtui.ui.status_pane import StatusPane
from qmigtui.watch.snapshot import EventLine
from tests.helpers import wait_for
from tests.ui.conftest import text_of
from tests.ui.fixed_state import info_reply, showing, with_source


async def test_a_change_of_state_is_drawn_before_the_other_panes_and_numbers_are_gathered():
    async with showing() as (app, pilot, snap):
        drawn: list[int] = []
        apply = app.apply_snapshot
        app.apply_snapshot = lambda s: (drawn.append(s.seq), apply(s))  # type: ignore[method-assign]
        event = EventLine("source", "MIGRATION", {"status": "cancelling"}, 1_700_000_100.0, 100.0,
                          snap.events[-1].seq + 1)
        cancelling = replace(with_source(snap, "cancelling"), events=(*snap.events, event))
        app._on_snapshot(cancelling)
        assert "cancelling" in text_of(app.query_one(StatusPane).rendered)  # at once
        events = app.query_one(EventsPane)
        assert "cancelling" not in "\n".join(s.text for s in events.lines)  # not yet
        await pilot.pause(0.2)
        assert drawn == [cancelling.seq]
        assert "cancelling" in "\n".join(s.text for s in events.lines)
        # new numbers from two sides close together: one frame, with the later answer
        first = replace(cancelling, seq=cancelling.seq + 1)
        second = replace(cancelling, seq=cancelling.seq + 2)
        app._on_snapshot(first)
        app._on_snapshot(second)
        await pilot.pause(GATHER + 0.2)
        assert drawn == [cancelling.seq, second.seq]


async def test_graphs_follow_fast_samples_at_most_twice_a_second_and_end_on_the_last():
    async with showing() as (app, pilot, snap):
        graphs = app.query_one(GraphsPane)
        plotted: list[int] = []
        redraw = graphs._redraw

        def counted() -> None:
            before = graphs._key
            redraw()
            if graphs._key != before:
                plotted.append(snap.histories["source"].total_seen)
        graphs._redraw = counted  # type: ignore[method-assign]
        history = snap.histories["source"]
        await pilot.pause(GraphsPane.MIN_PERIOD)
        for k in range(30, 40):  # ten samples at 10 Hz
            history.append(sample_from_reply(float(k), 1_700_000_000.0 + k, info_reply(k)))
            graphs.show(replace(snap, seq=snap.seq + k))
            await pilot.pause(0.1)
        await pilot.pause(GraphsPane.MIN_PERIOD + 0.1)
        assert 2 <= len(plotted) <= 4, plotted
        assert plotted[-1] == history.total_seen


def test_a_spike_is_clipped_and_a_flat_line_starts_from_zero():
    from qmigtui.ui.graphs_pane import clip_top, plot_lines
    steady = [50.0] * 60
    assert clip_top(steady) is None
    spiked = [*steady[:30], 445.0, *steady[31:]]
    top = clip_top(spiked)
    assert top is not None and 50 < top < 445
    flat = "\n".join(plot_lines([float(x) for x in range(60)], steady, 60, 8))
    assert "0.0┤" in flat  # the axis starts from zero: a flat line is drawn flat, not as a ramp


async def test_the_operator_chooses_the_series():
    from qmigtui.ui.graphs_pane import ChooseSeries, GraphsPane
    async with showing((120, 40)) as (app, pilot, _snap):
        await pilot.press("2")
        graphs = app.query_one(GraphsPane)
        graphs.focus()
        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, ChooseSeries), 5, "the series list")
        app.screen.query_one("#series").deselect_all()
        app.screen.query_one("#series").select("pass")
        await pilot.press("enter")
        await wait_for(lambda: graphs.chosen == ("pass",), 5, "the choice kept")
        await pilot.pause(0.6)
        svg = app.export_screenshot()  # one <text> a styled run: the bold title stands alone
        assert ">pass</text>" in svg and "throughput&#160;MiB/s" not in svg
        assert "seconds since the start" in graphs.border_subtitle
