"""Fixtures for driving the real app (Pilot) on a real lab pair."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from rich.console import Console

from qmigtui.desk.opening import open_lab
from qmigtui.lab.pair import LabConfig
from qmigtui.ui.app import MigrationApp
from tests.helpers import wait_for


def text_of(renderable: Any, width: int = 120) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


@pytest.fixture
def lab_app(need_qemu: None, tmp_path: Any) -> Callable[..., Any]:
    """``async with lab_app(config) as (app, pilot, backend)``: the app on a live lab pair."""

    @asynccontextmanager
    async def run(config: LabConfig | None = None, size: tuple[int, int] = (120, 40),
                  read_only: bool = False, **rig: Any) -> AsyncIterator[Any]:
        config = config or LabConfig(mem_mib=128, working_set_mib=8, dirty_rate_mib_s=2)
        rig.setdefault("audit", tmp_path / "audit.log")
        app = MigrationApp(lambda: open_lab(config, 0.3, read_only=read_only, **rig))
        try:
            async with app.run_test(size=size) as pilot:
                await wait_for(lambda: app.desk is not None or app.startup_error, 60, "backend")
                assert app.startup_error is None, app.startup_error
                await wait_for(lambda: app.snapshot and app.snapshot.source.capabilities, 20,
                               "first full snapshot")
                yield app, pilot, app.desk.backend
                await app.action_quit()
        finally:
            if app.desk is not None:
                app.desk.let_go()
    return run
