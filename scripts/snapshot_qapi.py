"""Keep the definitions and reply examples of a QAPI schema file (migration.json) as data.

Usage: python scripts/snapshot_qapi.py PATH/TO/migration.json > tests/data/migration-qapi.json

The repository keeps what the tests check against (every definition, and every
``<- {"return": ...}`` example of the documentation) without the schema's prose, so a
clone with nothing beside it runs the whole suite.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from qmigtui.model.qapi_file import read_qapi_file


def return_examples(path: Path) -> list[tuple[str, Any]]:
    """(command, reply) for every ``<- {"return": ...}`` example in the schema's comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[tuple[str, Any]] = []
    pending: list[Any] = []
    for k, line in enumerate(lines):
        m = re.match(r"\{ *'command': *'([^']+)'", line)
        if m:
            out += [(m.group(1), reply) for reply in pending]
            pending = []
        elif line.startswith("#") and "<- {" in line:
            text = line.split("<- ", 1)[1]
            for extra in lines[k + 1 : k + 80]:
                try:
                    pending.append(json.loads(text)["return"])
                    break
                except (json.JSONDecodeError, KeyError):
                    text += "\n" + extra.lstrip("#")
    return out


def main(path: str) -> None:
    source = Path(path)
    data = {"about": "QEMU's qapi/migration.json (the 8.2-era file the project covers): its "
                     "definitions and the reply examples of its documentation, as data",
            "definitions": read_qapi_file(source),
            "return_examples": return_examples(source)}
    print(json.dumps(data, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
