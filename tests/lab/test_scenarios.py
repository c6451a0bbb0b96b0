"""Each lab scenario reaches the state it promises, on real QEMU, within a bound."""

from __future__ import annotations

import asyncio

import pytest

from qmigtui.training.scenarios import SCENARIOS, until

BOUND = {"throttle": 90.0, "stuck-postcopy": 90.0}


# a plain precopy to completion is tried on every QEMU by test_real_migrations: the converge
# scenario's own promise (it converges) is the lab's, not the QEMU version's
ONCE = ("converge",)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.once) if n in ONCE else n
                                  for n in sorted(SCENARIOS)])
async def test_scenario_reaches_what_it_promises(make_rig, name):
    scenario = SCENARIOS[name]
    rig = await make_rig(scenario.config, interval=0.3, capabilities=scenario.capabilities,
                         parameters=scenario.parameters)
    await scenario.stage(rig)
    await until(rig, scenario.reaches, BOUND.get(name, 60.0), f"what {name} promises")
    if name == "converge":  # long enough to watch
        await until(rig, lambda s: (s.source.info.number("total-time") or 0) > 0, 10, "its total time")
        total = rig.watcher.snapshot.source.info.number("total-time")
        assert total is not None and total >= 15_000, f"completed in {total} ms"
    if name == "throttle":  # the throttle at its maximum does not save it
        await asyncio.sleep(8)
        assert rig.watcher.snapshot.source.status == "active"
