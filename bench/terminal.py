"""The app measured from outside, in a real terminal: tmux at 120x40, `qmigtui lab` in it.

Nothing of the app is patched: the bench only types keys (tmux send-keys) and reads the
screen tmux shows (capture-pane), so what it measures is what an operator sees.

1. Event to screen: rounds of start (m, Enter), cancel (x, y) and a fresh pair ($, Enter).
   For each MIGRATION event of the source, the time from QEMU's own timestamp (read back
   from the app's --record file) to the first screen on which the status pane shows that
   state. tmux hands every output chunk of the app to the bench as it draws it (pipe-pane);
   the screen is read then. A state replaced before any screen showed it is counted apart.
2. CPU of the app's own process (not the QEMUs, not tmux) while it watches an active
   migration for --cpu-seconds at the default 1 s interval.

Targets (issue 27): p50 <= 15 ms, p95 <= 40 ms; <= 1.5 % of one core.

    python bench/terminal.py [--rounds 10] [--cpu-seconds 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import cpu_seconds, median, pct

from qmigtui.record.format import Reader

LAB = ["lab", "--mem", "128", "--working-set", "64", "--dirty-rate", "40", "--bandwidth", "8M",
       "--interval", "1", "--no-audit"]
STATUS = re.compile(r"SOURCE\s+([a-z][a-z-]*)")


class Terminal:
    """A tmux server of its own with one window running the app."""

    def __init__(self, workdir: Path, size: tuple[int, int], argv: list[str],
                 extra_env: tuple[str, ...] = ()):
        self.socket = str(workdir / "tmux.sock")
        env = " ".join((f"HOME={workdir}", "TERM=xterm-256color", *extra_env))
        command = f"env {env} {sys.executable} -m qmigtui " + " ".join(argv)
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "bench", "-x", str(size[0]),
                  "-y", str(size[1]), command)
        self.pid = int(self.tmux("display-message", "-p", "-t", "bench", "#{pane_pid}"))
        self.fifo = workdir / "out.fifo"
        os.mkfifo(self.fifo)
        self.tmux("pipe-pane", "-O", "-t", "bench", f"cat > {self.fifo}")
        self.fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.seen: list[tuple[float, str]] = []  # (wall time, source status on screen)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], check=True, capture_output=True,
                              text=True).stdout.strip()

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "bench")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "bench", key)
            self.pump(0.15)

    def pump(self, seconds: float) -> None:
        """Read what the app draws for ``seconds``; after each chunk, read the screen."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                continue
            if not data:
                time.sleep(0.01)
                continue
            now = time.time()
            m = STATUS.search(self.screen())
            if m and (not self.seen or self.seen[-1][1] != m.group(1)):
                self.seen.append((now, m.group(1)))

    def wait(self, pattern: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.screen()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {pattern!r} on screen after {timeout:g} s:\n{self.screen()}")
            self.pump(0.1)

    def status(self) -> str:
        m = STATUS.search(self.screen())
        return m.group(1) if m else ""

    def until_status(self, status: str, timeout: float) -> None:
        self.wait(rf"SOURCE\s+{status}\b", timeout)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)
        os.close(self.fd)
        deadline = time.monotonic() + 20  # the app stops its lab on the hang-up
        while Path(f"/proc/{self.pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)


def one_run(rounds: int, cpu_s: float, size: tuple[int, int],
            env: tuple[str, ...] = ()) -> tuple[list[float], int, float]:
    workdir = Path(tempfile.mkdtemp(prefix="qmigtui-bench-"))
    record = workdir / "run.jsonl"
    term = Terminal(workdir, size, [*LAB, "--record", str(record)], env)
    try:
        term.wait(r"SOURCE\s+none", 60)
        term.wait(r"DESTINATION\s+none", 60)
        for _ in range(rounds):
            term.keys("m")
            term.wait(r"(?i)start", 10)
            term.keys("Enter")
            term.until_status("active", 30)
            term.pump(1.0)
            term.keys("x")
            term.keys("y")
            term.until_status("cancelled", 30)
            term.pump(0.5)
            term.keys("$")
            term.keys("Enter")
            term.until_status("none", 60)
            term.wait(r"DESTINATION\s+none", 60)
            term.pump(1.0)
        term.keys("m")
        term.keys("Enter")
        term.until_status("active", 30)
        term.pump(2.0)
        c0, t0 = cpu_seconds(term.pid), time.monotonic()
        time.sleep(cpu_s)  # nothing read meanwhile: the bench's own reading costs no app CPU
        cpu = (cpu_seconds(term.pid) - c0) / (time.monotonic() - t0)
        term.keys("x")
        term.keys("y")
        term.until_status("cancelled", 30)
    finally:
        term.close()
    events = [(e.msg["timestamp"]["seconds"] + e.msg["timestamp"]["microseconds"] / 1e6,
               str(e.msg["data"]["status"]))
              for e in Reader(record).entries()
              if e.side == "source" and e.kind == "event" and e.msg.get("event") == "MIGRATION"]
    shutil.rmtree(workdir, ignore_errors=True)
    latencies, missed = [], 0
    last_measured = events[-4][0] if len(events) >= 4 else float("inf")  # the CPU round is apart
    for k, (when, status) in enumerate(events):
        if when >= last_measured:
            break
        until_next = events[k + 1][0] if k + 1 < len(events) else when + 5
        shown = next((t for t, s in term.seen if when <= t and s == status), None)
        if shown is None or shown > max(until_next, when + 1.0):
            missed += 1
            continue
        latencies.append(shown - when)
    return latencies, missed, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=10, help="start/cancel rounds (4 transitions each)")
    ap.add_argument("--cpu-seconds", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=1, help="runs; each figure is their median [low..high]")
    ap.add_argument("--size", default="120x40")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="set in the app's environment (to compare, e.g. TEXTUAL_FPS=120)")
    args = ap.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("bench/terminal.py: needs tmux (apt-get install tmux)")
    size = tuple(int(x) for x in args.size.split("x"))
    runs = []
    for n in range(args.repeat):
        lat, missed, cpu = one_run(args.rounds, args.cpu_seconds, (size[0], size[1]), tuple(args.env))
        ms = [x * 1000 for x in lat]
        runs.append((pct(ms, 50), pct(ms, 95), cpu * 100))
        print(f"run {n + 1}: {len(ms)} transitions ({missed} not shown on their own): "
              f"p50 {pct(ms, 50):.1f} ms, p95 {pct(ms, 95):.1f} ms, max {max(ms):.1f} ms; "
              f"app CPU {cpu * 100:.2f} % of one core", flush=True)

    def spread(i: int, fmt: str) -> str:
        col = [r[i] for r in runs]
        return f"{format(median(col), fmt)} [{format(min(col), fmt)}..{format(max(col), fmt)}]"
    print(f"{args.size}, {args.repeat} runs: p50 {spread(0, '.1f')} ms, p95 {spread(1, '.1f')} ms, "
          f"app CPU {spread(2, '.2f')} % of one core")
    print("targets: p50 <= 15 ms, p95 <= 40 ms, CPU <= 1.5 %")


if __name__ == "__main__":
    main()
