"""Each guided exercise, done right and done wrong by a scripted trainee (Pilot) on real QEMU."""

from __future__ import annotations

from qmigtui.control.scenarios import EXERCISES
from tests.helpers import wait_for


async def staged(app) -> None:
    await wait_for(lambda: app.staged, 120, "the scenario staged")


async def verdict(app) -> bool:
    await wait_for(lambda: app.exercise_result is not None, 120, "a verdict")
    return app.exercise_result.passed


async def confirm(app, pilot, key: str) -> None:
    await pilot.press(key)
    await wait_for(lambda: app.screen.__class__.__name__ == "Confirm", 10, f"{key} asks")
    await pilot.press("y")


async def test_rescue_by_postcopy_passes(lab_app):
    async with lab_app(exercise="rescue") as (app, pilot, _):
        await staged(app)
        await wait_for(lambda: app.backend.controller.can("postcopy").ok, 30, "postcopy allowed")
        await confirm(app, pilot, "p")
        assert await verdict(app)
        assert "postcopy" in app.screen.detail  # the summary lists what was sent


async def test_rescue_by_a_big_downtime_limit_fails(lab_app):
    async with lab_app(exercise="rescue") as (app, pilot, _):
        await staged(app)
        await pilot.press("7")
        await pilot.press(*"migrate-set-parameters downtime-limit=5000", "enter")
        assert not await verdict(app)
        assert "5000" in app.exercise_result.why


async def test_recover_passes_and_cancel_fails(lab_app):
    async with lab_app(exercise="recover") as (app, pilot, _):
        await staged(app)
        await confirm(app, pilot, "r")
        assert await verdict(app)
    async with lab_app(exercise="recover") as (app, pilot, _):
        await staged(app)
        await confirm(app, pilot, "x")
        assert not await verdict(app)


async def test_switchover_continue_passes_and_cancel_fails(lab_app):
    async with lab_app(exercise="switchover") as (app, pilot, _):
        await staged(app)
        await wait_for(lambda: app.snapshot.source.status == "pre-switchover", 30, "pre-switchover")
        await pilot.press("n")
        assert await verdict(app)
    async with lab_app(exercise="switchover") as (app, pilot, _):
        await staged(app)
        await wait_for(lambda: app.snapshot.source.status == "pre-switchover", 30, "pre-switchover")
        await confirm(app, pilot, "x")
        assert not await verdict(app)


def test_every_exercise_names_a_scenario():
    from qmigtui.control.scenarios import SCENARIOS
    assert all(e.scenario in SCENARIOS for e in EXERCISES.values())
