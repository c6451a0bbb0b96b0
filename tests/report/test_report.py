"""``qmigtui report``: a bundled recording's post-mortem opens in a real headless Chromium
with its plots drawn and no script error; nothing needs the network; a damaged recording is
one line; text from a recording is never markup."""

from __future__ import annotations

import gzip
import subprocess
import sys

from qmigtui.record.replay import EXAMPLE
from qmigtui.report.page import render
from qmigtui.report.story import Mark, Story
from tests.browser import Browser, chromium
from tests.conftest import require

RESCUE = EXAMPLE.with_name("postcopy-rescue.jsonl.gz")
DRAWN = """[...document.querySelectorAll('#migration .scatterlayer path.js-line')]
           .filter(p => (p.getAttribute('d') || '').length > 20).length"""


def _report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qmigtui", "report", *args],
                          capture_output=True, text=True, timeout=120)


async def test_the_report_of_a_recording_opens_in_chromium_with_its_plots_drawn(tmp_path):
    require(chromium() is not None, "chromium is not installed (apt-get install chromium)")
    out = tmp_path / "rescue.html"
    done = _report(str(RESCUE), "-o", str(out))
    assert done.returncode == 0 and done.stdout.strip() == str(out), done.stderr
    page = out.read_text()
    assert '<script src="http' not in page and "cdn.plot.ly" not in page.split("</script>")[0][:200]
    for words in ("completed", "migrate-start-postcopy", "postcopy-active", "What was sent"):
        assert words in page, words
    async with Browser() as browser:
        await browser.open(out.as_uri())
        lines = await browser.wait_for(DRAWN, 60)
        assert lines >= 4  # left to send, throughput, dirty rate, the verdict (at least)
        assert await browser.evaluate("document.querySelectorAll('#migration .x5tick').length") > 3
        assert await browser.evaluate("window.__qmigtui.errors") == []
        shot = await browser.screenshot(tmp_path / "report.png")
        assert shot.stat().st_size > 30_000  # drawn plots, not a blank page


def test_a_damaged_recording_is_one_line_and_writes_nothing(tmp_path):
    with gzip.open(RESCUE, "rt") as f:
        lines = f.read().splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([*lines[:40], '{"t": "soon"', *lines[41:]]) + "\n")
    for path in (bad, tmp_path / "missing.jsonl"):
        done = _report(str(path), "-o", str(tmp_path / "out.html"))
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "Traceback" not in done.stderr and not (tmp_path / "out.html").exists()


def test_text_from_a_recording_is_never_markup():
    hostile = "<script>alert(1)</script>"
    story = Story(hostile, {"source": hostile}, t=[0.0, 1.0],
                  series={"remaining": [2.0, 1.0]},
                  marks=[Mark(0.5, "sent", "source", hostile, "operator", {"arguments": {"x": hostile}})],
                  totals={"source": {"status": hostile}})
    page = render(story)
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
