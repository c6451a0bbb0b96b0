"""Keys users remap with ``[keys]`` in config.toml: the new key works and the old one does
nothing, the footer, ``?`` and the palette show it, and a bad entry is one line that changes
nothing (in-process: the app without a QEMU, whose actions then say "not connected yet")."""

from __future__ import annotations

from textual.widgets import Footer

from qmigtui.cli import config as configuration
from qmigtui.desk.opening import open_endpoints
from qmigtui.ui.app import MigrationApp
from qmigtui.ui.keymap import key_scopes, resolve
from tests.control.test_record_keeping import Settable
from tests.fakeqmp import FakeQmp
from tests.helpers import wait_for


def test_entries_that_cannot_apply_are_one_line_each_and_keep_their_default():
    scopes = key_scopes(MigrationApp.all_bindings())
    keys, problems = resolve({"migrate": "M", "teleport": "t", "cancel": "p", "pause": "ctrl+",
                              "explain": 7, "advice": "?"}, scopes)
    assert keys == {"migrate": "M"}
    assert len(problems) == 5 and all("\n" not in p for p in problems)
    assert "teleport: no such action" in problems[0]
    assert "already the key of postcopy" in problems[1] and "cancel keeps x" in problems[1]
    assert "not a key" in problems[2] and "not a key" in problems[3]
    assert "already the key of help" in problems[4]
    # a key freed by one remap may be taken by the next
    assert resolve({"migrate": "M", "postcopy": "m"}, scopes)[0] == {"migrate": "M", "postcopy": "m"}
    # a pane's keys clash with the app's, not with another pane's
    assert resolve({"cap.source": "d"}, scopes)[0] == {}
    assert resolve({"graphs.choose": "d"}, scopes)[0] == {"graphs.choose": "d"}


def test_the_keys_table_is_read_from_the_configuration(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[keys]\nmigrate = "M"\n')
    assert configuration.load(path).keys == {"migrate": "M"}
    path.write_text("[keys\n")
    keys, warnings = configuration.keys_or_warning(path)
    assert keys == {} and len(warnings) == 1 and "not TOML" in warnings[0]


async def test_a_remapped_action_answers_its_new_key_only_and_every_view_shows_it(tmp_path):
    fake = await FakeQmp(str(tmp_path / "qmp.sock"), Settable()).start()
    try:
        app = MigrationApp(lambda: open_endpoints([("source", fake.path)], 0.2, False, no_audit=True),
                           keys={"migrate": "M", "cancel": "p"})
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.snapshot is not None and app.snapshot.source.parameters, 10,
                           "connected")
            assert any("already the key of postcopy" in text for severity, text in app.notified
                       if severity == "warning")  # the bad entry, once
            await pilot.press("m")
            await pilot.pause(0.3)
            assert app.screen.__class__.__name__ != "StartMigration"  # the old key does nothing
            await pilot.press("M")
            await wait_for(lambda: app.screen.__class__.__name__ == "StartMigration", 5,
                           "the new key opened the start dialog")
            await pilot.press("escape")
            keys = {desc: key for key, desc in app.help_sections()[0][1]}
            assert keys["Migrate"] == "M" and keys["Help"] == "?"
            helps = {c.help for c in app.get_system_commands(app.screen) if c.title == "Migrate"}
            assert helps == {"key M"}
            await pilot.pause(0.2)
            shown = {(k.key, k.description) for k in app.query_one(Footer).query("FooterKey")}
            assert ("M", "Migrate") in shown and ("m", "Migrate") not in shown, shown
            await app.action_quit()
    finally:
        await fake.stop()
