"""The history ring: bounded whatever the run length, with derived rates."""

from __future__ import annotations

import math

from qmigtui.analysis.history import History, sample_from_reply


def reply(transferred: int, remaining: int, dirty_pages: int = 100) -> dict:
    return {"status": "active", "ram": {"transferred": transferred, "remaining": remaining,
                                        "total": 1 << 30, "dirty-pages-rate": dirty_pages,
                                        "page-size": 4096}}


def test_ring_keeps_only_its_capacity_in_order():
    h = History(capacity=5)
    for i in range(12):
        h.append(sample_from_reply(float(i), 0.0, reply(i * 100, 1000 - i)))
    assert len(h) == 5 and h.total_seen == 12
    assert h.series("t") == [7.0, 8.0, 9.0, 10.0, 11.0]
    assert h.latest("remaining") == 989 and h.series("remaining", last=2) == [990, 989]


def test_throughput_and_dirty_rate_are_derived_and_resets_are_not_negative():
    h = History(capacity=10)
    for t, tr in [(0, 0), (1, 1000), (2, 3000), (3, 10)]:
        h.append(sample_from_reply(float(t), 0.0, reply(tr, 0)))
    rates = h.throughput()
    assert math.isnan(rates[0]) and rates[1:3] == [1000, 2000] and math.isnan(rates[3])
    assert h.dirty_bytes_rate() == [409600.0] * 4


def test_missing_fields_are_nan_not_errors():
    h = History(capacity=3)
    h.append(sample_from_reply(0.0, 0.0, {"status": "setup"}))
    assert math.isnan(h.latest("transferred")) and h.statuses() == ["setup"]


def test_a_view_never_changes_after_it_is_taken_whatever_the_history_does_next():
    h = History(capacity=150)
    for i in range(100):  # a full chunk and part of the next
        h.append(sample_from_reply(float(i), 0.0, reply(i, 1000 - i)))
    view = h.view()
    before = (len(view), view.series("t"), view.statuses(), view.latest("remaining"), view.total_seen)
    for i in range(100, 400):  # past the capacity: old chunks leave the history
        h.append(sample_from_reply(float(i), 0.0, reply(i, 1000 - i)))
    assert len(h) == 150 and h.series("t") == [float(i) for i in range(250, 400)]
    h.clear()
    assert len(h) == 0 and math.isnan(h.latest("t"))
    assert (len(view), view.series("t"), view.statuses(), view.latest("remaining"),
            view.total_seen) == before
    assert view.series("t", last=3) == [97.0, 98.0, 99.0] and view.latest("remaining") == 901


def test_a_view_taken_at_a_chunk_boundary_reads_its_last_sample_and_no_later_one():
    h = History(capacity=500)
    for i in range(64):  # exactly one full chunk: the open one is empty
        h.append(sample_from_reply(float(i), 0.0, reply(i, 1000 - i)))
    view = h.view()
    h.append(sample_from_reply(64.0, 0.0, reply(64, 936)))
    assert view.latest("t") == 63.0 and view.series("t", last=2) == [62.0, 63.0] and len(view) == 64
    later = h.view()
    h.append(sample_from_reply(65.0, 0.0, reply(65, 935)))
    assert later.latest("t") == 64.0 and later.series("t")[-2:] == [63.0, 64.0]
    assert later.statuses()[-1] == h.statuses()[-2]
