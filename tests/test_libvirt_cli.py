"""--connect URI [DOMAIN] [--dest-connect URI2] [--monitor] on the command line: every mistake
is one line and opens nothing (no libvirt daemon needed)."""

from __future__ import annotations

import pytest

from qmigtui.cli import main as cli


@pytest.mark.parametrize("argv, said", [
    (["--dest-connect", "qemu:///system"], "--dest-connect goes with --connect URI"),
    (["--monitor", "/run/a.qmp"], "--monitor goes with a domain under libvirt"),
    (["--connect", "qemu:///system", "a", "b"], "--connect takes one domain"),
    (["--connect", "qemu:///system", "a", "--dest", "/run/b.qmp"], "--connect takes one domain"),
    ([], "give a source endpoint, a configured name, or --connect URI"),
    (["libvirt:qemu:///system#web1", "--dest", "/run/b.qmp"], "pairs only with the same domain"),
])
def test_libvirt_options_that_do_not_fit_are_one_line(argv, said, capsys, tmp_path):
    (tmp_path / "empty.toml").write_text("")
    assert cli.main([*argv, "--config", str(tmp_path / "empty.toml")]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1, err


def test_a_libvirt_that_is_not_there_is_one_line(capsys, tmp_path):
    pytest.importorskip("libvirt")  # the binding is part of make test; elsewhere it is optional
    uri = f"qemu+unix:///system?socket={tmp_path}/no-sock"
    (tmp_path / "empty.toml").write_text("")
    assert cli.main(["--connect", uri, "web1", "--config", str(tmp_path / "empty.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"qmigtui: {uri}: ") and err.count("\n") == 1, err
