"""A bug of ours, written down: the whole traceback to a file, one line for the terminal."""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

from platformdirs import user_state_path

from qmigtui.model.text import clean


def write_crash_log(error: BaseException, directory: Path | None = None) -> Path | None:
    """Write the traceback to a new file (0600) in the state directory; None when it cannot."""
    folder = directory or user_state_path("qmigtui")
    path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("".join(traceback.format_exception(error)))
    except OSError:
        return None
    return path


def crash_line(error: BaseException, log: Path | None) -> str:
    """``qmigtui: internal error (TypeError: …); details in PATH``: one line, plain text."""
    what = clean(f"{type(error).__name__}: {error}", 200)
    where = f"; details in {log}" if log is not None else ""
    return f"qmigtui: internal error ({what}){where}"
