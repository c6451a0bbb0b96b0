"""Themes from TOML files: each bundled one loads and looks different; a broken one falls back."""

from __future__ import annotations

from pathlib import Path

import pytest

from qmigtui.ui import themes
from qmigtui.ui.app import MigrationApp
from tests.ui.fixed_state import fixed_snapshot

BUNDLED = sorted(themes.BUNDLED.glob("*.toml"))


def test_there_are_a_dark_a_light_and_a_high_contrast_theme():
    loaded = [themes.load_theme(p) for p in BUNDLED]
    names = {t.name for t in loaded}
    assert {"qmigtui-dark", "qmigtui-light", "qmigtui-contrast"} <= names
    assert any(not t.dark for t in loaded) and any(t.dark for t in loaded)


async def screen_with(theme: str) -> str:
    app = MigrationApp(None, theme=theme)
    async with app.run_test(size=(120, 40)) as pilot:
        app.apply_snapshot(fixed_snapshot())
        await pilot.pause()
        assert app.theme == theme
        svg = app.export_screenshot()
        await app.action_quit()
    return svg


async def test_each_bundled_theme_draws_the_main_screen_differently():
    shots = {t.name: await screen_with(t.name) for t in map(themes.load_theme, BUNDLED)}
    assert len(set(shots.values())) == len(shots)


@pytest.mark.parametrize("theme", ["ansi-dark", "ansi-light", "textual-light"])
async def test_verdicts_and_graphs_take_their_colours_from_any_theme_even_the_terminal_palette(theme):
    svg = await screen_with(theme)  # the ansi themes name colours Rich must get as color(N)
    assert str(fixed_snapshot().forecast.verdict) in svg


@pytest.mark.parametrize(("text", "problem"), [
    ("name = 'x'\nprimary = 'not-a-colour'\n", "is not a colour"),
    ("name = 'x'\n", "'primary' is required"),
    ("name = [\n", "not TOML"),
    ("name = 'x'\nprimary = '#fff'\nsparkle = 1\n", "unknown key 'sparkle'"),
])
def test_broken_theme_files_are_one_line_each(tmp_path: Path, text: str, problem: str):
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    found, problems = themes.discover((tmp_path,))
    assert found == [] and len(problems) == 1
    assert problems[0].startswith(str(bad)) and problem in problems[0] and "\n" not in problems[0]


def test_a_user_theme_named_like_a_bundled_one_replaces_it_and_says_so(tmp_path: Path):
    mine = tmp_path / "mine.toml"
    mine.write_text("name = 'qmigtui-dark'\nprimary = '#ff0000'\n")
    found, problems = themes.discover((themes.BUNDLED, tmp_path))
    assert [t.primary for t in found if t.name == "qmigtui-dark"][-1] == "#ff0000"
    assert problems == [f"{mine}: theme 'qmigtui-dark' replaces the one in "
                        f"{themes.BUNDLED / 'qmigtui-dark.toml'}"]


async def test_a_broken_user_theme_and_an_unknown_name_fall_back_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "qmigtui" / "themes").mkdir(parents=True)
    (tmp_path / "qmigtui" / "themes" / "mine.toml").write_text("name = 'mine'\nprimary = 'nope'\n")
    app = MigrationApp(None, theme="no-such-theme")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == themes.DEFAULT
        messages = " ".join(text for _, text in app.notified)
        assert "mine.toml" in messages and "no theme 'no-such-theme'" in messages
        await app.action_quit()


async def test_a_theme_picked_while_running_is_remembered():
    app = MigrationApp(None)
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = "qmigtui-light"
        await pilot.pause()
        await app.action_quit()
    assert themes.remembered() == "qmigtui-light"
    themes.remember(themes.DEFAULT)


@pytest.mark.parametrize("name", ["ansi-dark", "ansi-light"])
async def test_an_ansi_theme_picked_and_remembered_draws_and_starts_again(name):
    app = MigrationApp(None)
    async with app.run_test(size=(120, 40)) as pilot:
        app.theme = name  # as from the palette
        app.apply_snapshot(fixed_snapshot())
        await pilot.press("2", "3", "4", "1")
        await pilot.pause()
        await app.action_quit()
    assert themes.remembered() == name
    again = MigrationApp(None)  # the next start, with that choice remembered
    async with again.run_test(size=(120, 40)) as pilot:
        again.apply_snapshot(fixed_snapshot())
        await pilot.pause()
        assert again.theme == name
        assert str(fixed_snapshot().forecast.verdict) in again.export_screenshot()
        await again.action_quit()
    themes.remember(themes.DEFAULT)
