"""Moving about a replay: every state change is a stop, the clock stops at the end, and going
back plays the recording again from its start (the bundled recording, no QEMU)."""

from __future__ import annotations

import asyncio

from qmigtui.desk.opening import open_replay
from tests.helpers import wait_for
from tests.record.test_examples import example

# where the pair stands after each ] in postcopy-recover: a side's new status, unless the
# other side announced it already (the source's setup follows the destination's, and so on)
STOPS = ["setup (destination)", "active (destination)", "postcopy-active (source)",
         "postcopy-paused (destination)", "setup (destination)", "postcopy-recover (source)",
         "postcopy-active (destination)", "completed (destination)"]


async def test_next_state_change_stops_at_every_change_including_postcopy_active():
    desk = await open_replay(example("postcopy-recover"), speed=1.0)
    player = desk.backend.player
    player.toggle_pause()
    try:
        seen = []
        while (stop := player.next_state_change()) is not None:
            seen.append(stop)
            status, side = stop.rstrip(")").split(" (")
            await wait_for(lambda: desk.snapshot.side(side).status == status, 5,  # noqa: B023
                           f"{side} shown {status}")
            assert player.paused  # a paused replay stays paused where it stopped
        assert seen == STOPS
    finally:
        await desk.close()


async def test_the_clock_stops_at_the_end_and_the_length_is_known():
    desk = await open_replay(example("postcopy-recover"), speed=100.0)
    player = desk.backend.player
    try:
        await asyncio.wait_for(player.ended.wait(), 20)
        assert player.length is not None and 38 < player.length < 40
        at_end = player.position
        await asyncio.sleep(0.3)
        assert player.position == at_end == player.length and player.at_end
    finally:
        await desk.close()


async def test_seeking_backwards_plays_again_from_the_start_and_forgets_the_later_history():
    desk = await open_replay(example("postcopy-recover"), speed=100.0)
    player, watcher = desk.backend.player, desk.backend.watcher
    try:
        await asyncio.wait_for(player.ended.wait(), 20)
        assert desk.snapshot.source.status == "completed"
        player.toggle_pause()
        assert player.jump_to(3.0) == 3.0
        await wait_for(lambda: desk.snapshot.source.status == "postcopy-active", 10, "back in postcopy")
        assert not player.at_end and abs(player.position - 3.0) < 0.01
        history = watcher.sides["source"].history
        await wait_for(lambda: len(history) > 0, 5, "the history gathered again")
        assert history.latest("t") - player.start <= 3.0  # nothing from after 0:03 is kept
        assert not any(e.data.get("status") == "completed" for e in desk.snapshot.events)
        player.toggle_pause()  # and it plays on from there to the end again
        await asyncio.wait_for(player.ended.wait(), 20)
        await wait_for(lambda: desk.snapshot.source.status == "completed", 5, "completed again")
    finally:
        await desk.close()
