"""When the watcher publishes (no QEMU: the publishing rules on their own)."""

from __future__ import annotations

import asyncio

from qmigtui.watch.publishing import GATHER_S, Publishing


def _both_polling() -> tuple[Publishing, list[float]]:
    """Publishing for a pair whose two sides are both being polled; the times it flushed."""
    flushed: list[float] = []
    loop = asyncio.get_running_loop()
    pub = Publishing(lambda: flushed.append(loop.time()), interval=1.0)
    pub.poll_started("source")
    pub.poll_started("destination")
    return pub, flushed


async def test_both_sides_answers_to_one_tick_make_one_snapshot():
    pub, flushed = _both_polling()
    pub.publish(answered="source")
    pub.poll_ended("source")
    await asyncio.sleep(0.05)
    assert flushed == [], "the source's numbers wait for the destination's"
    pub.publish(answered="destination")
    pub.poll_ended("destination")
    await asyncio.sleep(0.01)
    assert len(flushed) == 1


async def test_a_side_that_does_not_answer_delays_the_other_by_gather_s_at_most():
    pub, flushed = _both_polling()
    start = asyncio.get_running_loop().time()
    pub.publish(answered="source")
    pub.poll_ended("source")
    await asyncio.sleep(GATHER_S + 0.1)
    assert len(flushed) == 1 and flushed[0] - start <= GATHER_S + 0.05


async def test_an_event_is_published_at_once_and_takes_the_waiting_numbers():
    pub, flushed = _both_polling()
    pub.publish(answered="source")
    pub.publish()  # a MIGRATION event
    await asyncio.sleep(0.01)
    assert len(flushed) == 1
    await asyncio.sleep(GATHER_S + 0.05)
    assert len(flushed) == 1, "the numbers went with the event, not again"
