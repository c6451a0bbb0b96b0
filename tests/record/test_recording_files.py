"""Bad recordings give one line naming the file and line; good ones read back, plain or gzip."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pytest

from qmigtui.record.format import FORMAT, MAGIC, Reader, RecordingError

HEADER = {MAGIC: FORMAT, "qmigtui": "0.1.0", "started": 0,
          "sides": {"source": {"endpoint": "unix:/x", "qemu": "7.2.22", "schema": "0" * 16}}}


def line(t: float, kind: str, msg: dict) -> str:
    return json.dumps({"t": t, "wall": 1e9 + t, "side": "source", "kind": kind, "msg": msg})


def write(path, *lines: str, end: str = "\n") -> None:
    path.write_text("\n".join([json.dumps(HEADER), *lines]) + end)


GOOD = [line(1, "command", {"execute": "query-migrate", "id": "a"}),
        line(1.01, "response", {"return": {"status": "active"}, "id": "a"}),
        line(2, "event", {"event": "MIGRATION", "data": {"status": "completed"}})]


def test_a_good_file_reads_back_plain_and_gzip(tmp_path):
    plain = tmp_path / "a.jsonl"
    write(plain, *GOOD)
    packed = tmp_path / "a.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    for p in (plain, packed):
        reader = Reader(p)
        assert [e.kind for e in reader.entries()] == ["command", "response", "event"]
        assert reader.warning is None


def test_a_last_line_cut_short_replays_up_to_the_line_before(tmp_path):
    p = tmp_path / "cut.jsonl"
    write(p, *GOOD, GOOD[0][:17], end="")
    reader = Reader(p)
    assert len(list(reader.entries())) == 3
    assert reader.warning == f"{p}:5: last line cut short (recording interrupted); replayed up to line 4"


@pytest.mark.parametrize(("content", "message"), [
    ("", ":1: empty; not a qmigtui recording"),
    ('{"qmigtui-recording": 1, "sid', ":1: the header is cut short"),
    ("hello\n", ":1: not a qmigtui recording (the first line is not JSON)"),
    ('{"some": "json"}\n', ":1: not a qmigtui recording (no 'qmigtui-recording' header)"),
    (json.dumps(HEADER | {MAGIC: 99}) + "\n", ":1: recording format 99; this qmigtui reads format 1"),
    (json.dumps(HEADER) + "\n" + GOOD[0] + "\nnot json at all\n" + GOOD[1] + "\n",
     ":3: not JSON (Expecting value)"),
    (json.dumps(HEADER) + "\n" + line(1, "telepathy", {}) + "\n", ":2: unknown kind 'telepathy'"),
    (json.dumps(HEADER) + "\n" + json.dumps({"t": 1, "wall": 1, "side": "elsewhere", "kind": "event",
                                             "msg": {}}) + "\n", ":2: side 'elsewhere' is not in the header"),
])
def test_bad_files_give_one_line_with_the_line_number(tmp_path, content, message):
    p = tmp_path / "bad.jsonl"
    p.write_text(content)
    with pytest.raises(RecordingError) as e:
        list(Reader(p).entries())
    assert str(e.value) == f"{p}{message}" or str(e.value).startswith(f"{p}{message}")
    out = subprocess.run([sys.executable, "-m", "qmigtui", "replay", str(p), "--headless"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and message in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(("header", "message"), [
    (HEADER, ": no messages after the header"),
    (HEADER | {"sides": {"source": "x"}}, ":1: side 'source' in the header is not an object"),
    (HEADER | {"sides": {"source": {"endpoint": ["x"]}}}, ":1: side 'source''s endpoint is not text"),
    (HEADER | {"started": "yesterday"}, ":1: 'started' in the header is not a time"),
])
def test_a_header_of_the_wrong_shape_or_alone_is_one_line_for_every_reader(tmp_path, header, message):
    p = tmp_path / "forged.jsonl"
    p.write_text(json.dumps(header) + "\n")
    for argv in (["replay", str(p), "--headless"], ["replay", str(p)],
                 ["export", str(p), "--csv", "-o", str(tmp_path / "out")],
                 ["export", str(p), "--json", "-o", str(tmp_path / "out")]):
        out = subprocess.run([sys.executable, "-m", "qmigtui", *argv], capture_output=True,
                             text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert out.returncode == 2, (argv, out.stderr[-500:])
        assert out.stderr == f"qmigtui: {p}{message}\n", argv
    assert not list(tmp_path.glob("out*"))  # nothing written


def test_missing_file_is_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "qmigtui", "replay", str(tmp_path / "nope.jsonl")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.strip().endswith("No such file or directory")


def test_a_gigabyte_of_zeros_is_refused_in_bounded_memory(tmp_path):
    p = tmp_path / "zeros.jsonl"
    with p.open("wb") as f:
        f.truncate(1 << 30)  # sparse: a gigabyte of NUL bytes, no newline
    # the peak is read from VmHWM, this process's own: ru_maxrss keeps the parent's peak
    # across fork and exec, so a test suite grown large made a reader look large
    script = ("import sys\n"
              "from qmigtui.record.format import Reader, RecordingError\n"
              "try:\n    list(Reader(sys.argv[1]).entries())\n"
              "except RecordingError as e:\n    print(e)\n"
              "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
              "print(int(hwm.split()[1]) // 1024)\n")
    out = subprocess.run([sys.executable, "-c", script, str(p)], capture_output=True, text=True,
                         timeout=120)
    message, peak_mb = out.stdout.splitlines()
    assert "not a complete recording" in message or "longer than" in message
    assert int(peak_mb) < 400, f"{peak_mb} MB to refuse a file of zeros"


def test_a_cut_gzip_recording_replays_to_where_it_was_cut(tmp_path):
    whole = tmp_path / "whole.jsonl.gz"
    with gzip.open(whole, "wt") as f:
        f.write(json.dumps(HEADER) + "\n" + "\n".join(GOOD * 200) + "\n")
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    reader = Reader(cut)
    entries = list(reader.entries())
    assert entries and reader.warning is not None and "cut short" in reader.warning
    out = subprocess.run([sys.executable, "-m", "qmigtui", "replay", str(cut), "--headless",
                          "--speed", "10000"], capture_output=True, text=True, timeout=60)
    assert "Traceback" not in out.stderr and "cut short" in out.stderr


@pytest.mark.parametrize("args", [["x", "--interval", "0"], ["x", "--interval", "-1"],
                                  ["x", "--interval", "1e-9"], ["x", "--interval", "inf"],
                                  ["replay", "x", "--speed", "nan"], ["lab", "--dirty-rate", "nan"],
                                  ["serve", "--max-sessions", "0"], ["status", "x", "--timeout", "-3"]])
def test_every_option_out_of_range_is_one_line_and_exit_2(args):
    out = subprocess.run([sys.executable, "-m", "qmigtui", *args], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "out of range" in out.stderr or "not a number" in out.stderr
