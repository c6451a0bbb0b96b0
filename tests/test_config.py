"""The configuration file: named pairs open by name; unknown keys warn; bad values are one line."""

from __future__ import annotations

import pytest

from qmigtui.cli import main as cli
from qmigtui.cli import parsers
from qmigtui.cli.config import load
from qmigtui.desk.opening import open_endpoints
from qmigtui.ui.app import MigrationApp
from tests.fakeqmp import FakeQmp
from tests.faults.test_hostile_peer import Peer
from tests.helpers import wait_for


def args(*argv: str):
    return parsers.monitor_parser().parse_args(list(argv))


async def test_two_named_pairs_open_each_by_name(tmp_path):
    peers = [await FakeQmp(str(tmp_path / f"{n}.sock"), Peer()).start() for n in ("a", "b", "c")]
    conf = tmp_path / "config.toml"
    conf.write_text(f"""
interval = 0.5
theme = "qmigtui-light"
colour = "blue"

[connections.web-1]
source = "unix:{peers[0].path}"
destination = "unix:{peers[1].path}"

[connections.db-2]
source = "{peers[2].path}"
read_only = true
""")
    try:
        for name, want in (("web-1", [peers[0].path, peers[1].path]), ("db-2", [peers[2].path])):
            ns = args(name, "--config", str(conf), "--audit-log", str(tmp_path / "a.log"))
            warnings = cli.apply_config(ns)
            assert warnings == [f"{conf}: unknown key 'colour' (ignored)"]
            assert ns.interval == 0.5 and ns.theme == "qmigtui-light"
            endpoints = [("source", ns.source)] + ([("destination", ns.dest)] if ns.dest else [])
            app = MigrationApp(lambda e=endpoints, ro=ns.read_only: open_endpoints(
                e, 0.5, ro, audit=tmp_path / "a.log"), theme=ns.theme)
            async with app.run_test(size=(80, 24)) as pilot:
                await wait_for(lambda a=app: a.snapshot is not None and a.snapshot.source.info is not None,
                               20, "connected")
                assert [s.endpoint.removeprefix("unix:") for s in app.snapshot.sides] == want
                assert app.snapshot.read_only is (name == "db-2")
                await pilot.pause()
                await app.action_quit()
    finally:
        for p in peers:
            await p.stop()


def test_command_line_wins_over_the_configuration(tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text('interval = 2\n[connections.x]\nsource = "/s"\ninterval = 3\n')
    ns = args("x", "--config", str(conf), "--interval", "0.2")
    cli.apply_config(ns)
    assert ns.interval == 0.2 and ns.source == "/s"
    ns = args("x", "--config", str(conf))
    cli.apply_config(ns)
    assert ns.interval == 3
    ns = args("/other", "--config", str(conf))
    cli.apply_config(ns)
    assert ns.interval == 2 and ns.source == "/other"


@pytest.mark.parametrize(("text", "problem"), [
    ("interval = 'soon'\n", "interval = 'soon' is not float"),
    ("[connections.x]\ndestination = '/d'\n", "connections.x has no source"),
    ("[connections.x]\nsource = 5\n", "connections.x.source = 5 is not str"),
    ("interval = [\n", "not TOML"),
    # an interval is checked as on the command line, wherever it is written
    ("interval = 1e-9\n", "interval = 1e-09: 1e-09 is out of range: seconds between polls"),
    ("interval = 0\n", "interval = 0: 0.0 is out of range"),
    ("interval = -1\n", "interval = -1: -1.0 is out of range"),
    ("interval = nan\n", "interval = nan: nan is out of range"),
    ("interval = inf\n", "interval = inf: inf is out of range"),
    ("interval = 7200\n", "interval = 7200: 7200.0 is out of range"),
    ("[connections.x]\nsource = '/s'\ninterval = 1e-9\n", "connections.x.interval = 1e-09: 1e-09 is out"),
    ("[connections.x]\nsource = '/s'\ninterval = nan\n", "connections.x.interval = nan: nan is out"),
])
def test_bad_configuration_is_one_line(tmp_path, text, problem, capsys):
    conf = tmp_path / "c.toml"
    conf.write_text(text)
    with pytest.raises(ValueError) as e:
        load(conf)
    assert problem in str(e.value) and "\n" not in str(e.value)
    assert str(conf) in str(e.value)
    capsys.readouterr()
    assert cli.main(["/x", "--config", str(conf)]) == 2  # nothing starts
    assert cli.main(["x", "--config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and str(conf) in err


def test_a_binary_or_huge_configuration_file_is_one_line_naming_it(tmp_path):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00interval = 1\x00" * 10)
    with pytest.raises(ValueError, match=f"^{binary}: not text"):
        load(binary)
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as f:  # sparse: 500 MB that are never read whole
        f.truncate(500 << 20)
    with pytest.raises(ValueError, match=f"^{huge}: larger than 1024 KiB"):
        load(huge)


def test_missing_default_file_is_fine_and_an_explicit_one_is_not(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load().connections == {}
    with pytest.raises(ValueError, match="no such file"):
        load(tmp_path / "nope.toml")


def test_a_name_not_in_the_configuration_says_so(tmp_path, capsys):
    conf = tmp_path / "c.toml"
    conf.write_text('[connections.web-1]\nsource = "unix:/run/web-1.qmp"\n')
    assert cli.main(["web-9", "--config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert "web-9: no such connection in the configuration (it names: web-1)" in err
    assert err.count("\n") == 1
