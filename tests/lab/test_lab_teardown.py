"""Letting go of a QEMU that stopped answering: closing is bounded and the lab still stops."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time

import pytest

from qmigtui.lab.pair import LabConfig
from qmigtui.qmp.errors import QmpError


@pytest.mark.once  # our own close path: nothing of the QEMU version in it
async def test_close_is_bounded_when_qemu_stopped_reading_its_monitor(make_rig):
    rig = await make_rig(LabConfig(mem_mib=64, working_set_mib=8, dirty_rate_mib_s=1))
    os.kill(rig.lab.source.pid, signal.SIGSTOP)
    big = {"x": "y" * 60_000}
    for _ in range(200):  # fill the socket buffers, so a final flush cannot finish
        with contextlib.suppress(QmpError):
            await rig.source.execute("query-migrate", big, timeout=0.01)
    started = time.monotonic()
    await asyncio.wait_for(rig.close(), 30)
    assert time.monotonic() - started < 15
    assert rig.lab.source.poll() is not None and rig.lab.destination.poll() is not None
