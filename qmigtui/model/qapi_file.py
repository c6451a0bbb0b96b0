"""Reading a QAPI schema file: Python-literal expressions between ``#`` comments."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any


def read_qapi_file(path: str | Path) -> list[dict[str, Any]]:
    """Return the top-level expressions of a QAPI ``.json`` file, in order."""
    text = Path(path).read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    source = "\n".join(lines)
    exprs: list[dict[str, Any]] = []
    depth, start = 0, None
    in_str = False
    for i, ch in enumerate(source):
        if ch == "'":
            in_str = not in_str
        if in_str:
            continue
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and start is not None:
                literal = source[start : i + 1].replace("true", "True").replace("false", "False")
                exprs.append(ast.literal_eval(literal))
    return exprs
