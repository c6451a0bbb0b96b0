"""Command-line parsing that says what is wrong in one line, and option types with ranges."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import NoReturn

EXIT_USAGE = 2


def fail(message: str) -> int:
    """One line on standard error, exit status 2; what the user typed in it (a URI, a domain
    name) is shown stripped of escapes and newlines, as anything untrusted is."""
    from qmigtui.model.text import clean
    print(f"qmigtui: {clean(message)}", file=sys.stderr)
    return EXIT_USAGE


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``qmigtui: …``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("qmigtui").strip()
        print(f"qmigtui: {command + ': ' if command else ''}{message} (see {self.prog} --help)",
              file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def number_in(low: float, high: float, what: str) -> Callable[[str], float]:
    """An option type: a finite number from ``low`` to ``high``."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range: {what} from {low:g} to {high:g}")
        return value
    return parse


def whole_in(low: int, high: int) -> Callable[[str], int]:
    """An option type: a whole number from ``low`` to ``high``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range {low}-{high}")
        return value
    return parse


INTERVAL = number_in(0.05, 3600, "seconds between polls")
SPEED = number_in(0.01, 10_000, "recorded seconds per second")
PORT = whole_in(1, 65535)
