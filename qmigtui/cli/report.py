"""``qmigtui report RECORDING [-o FILE.html]``: a post-mortem of a recorded migration as one
self-contained HTML page (plots and the summary; it opens with no network)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from qmigtui.cli.options import Parser
from qmigtui.record.export import default_prefix
from qmigtui.record.format import RecordingError


def report_parser() -> Parser:
    p = Parser(prog="qmigtui report",
               description="Write a post-mortem of a recorded migration: one HTML file with plots "
                           "of the whole migration and what was sent, by whom.")
    p.add_argument("file", help="a recording made with --record (plain or gzip)")
    p.add_argument("-o", "--output", metavar="FILE.html",
                   help="where to write (default: the recording's name with .html)")
    return p


def run_report(args: list[str]) -> int:
    ns = report_parser().parse_args(args)
    from qmigtui.report.page import render
    from qmigtui.report.story import gather
    source = Path(ns.file)
    out = Path(ns.output) if ns.output else default_prefix(source).with_suffix(".html")
    try:
        story = asyncio.run(gather(source))
        page = render(story)
        out.write_text(page, encoding="utf-8")
    except RecordingError as e:
        print(f"qmigtui: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"qmigtui: cannot write {out}: {e.strerror or e}", file=sys.stderr)
        return 2
    if story.warning:
        print(f"qmigtui: {story.warning}", file=sys.stderr)
    print(out)
    return 0
