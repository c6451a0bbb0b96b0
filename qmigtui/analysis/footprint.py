"""How fast a guest dirties memory, and what that means for the passes of a precopy.

A guest that rewrites a hot working set dirties ``rate * T`` new bytes in a window
of ``T`` seconds until the window covers the whole set; from then on it dirties
``cap`` bytes whatever the length.  Each precopy pass sends what the previous
one left dirty, so pass ``k+1`` lasts ``dirtied(T_k) / bandwidth`` seconds: the
passes shrink when ``rate < bandwidth`` or ``cap`` fits under the switchover
threshold, and repeat for ever otherwise.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

SATURATED = 0.8  # a window whose bytes fall this far below rate*T has covered the hot set
MIN_PASS_S = 0.1  # QEMU's migration thread works in 100 ms steps: shorter passes end the race
MAX_PASSES = 60  # beyond this many more passes, a precopy is not going to converge in practice


@dataclass(frozen=True)
class Footprint:
    """Bytes dirtied in a window of ``T`` seconds: ``min(cap, rate * T)``."""

    rate: float  # bytes/s, the rate over short windows
    cap: float = math.inf  # bytes, the hot set (inf until a long window showed it)

    def dirtied(self, seconds: float) -> float:
        return min(self.cap, self.rate * max(seconds, 0.0))

    def scaled(self, factor: float) -> Footprint:
        return Footprint(self.rate * factor, self.cap)

    @classmethod
    def fit(cls, points: Iterable[tuple[float, float]]) -> Footprint | None:
        """From ``(window seconds, bytes dirtied)`` observations; None without any."""
        pts = [(t, b) for t, b in points if t > 0 and b >= 0 and math.isfinite(t) and math.isfinite(b)]
        if not pts:
            return None
        rate = max(b / t for t, b in pts)
        # a window has covered the hot set when it saw clearly less than a shorter window's
        # rate would have dirtied; a short window that reads low is only a low reading
        saturated = [b for t, b in pts
                     if b < SATURATED * max((b2 / t2 for t2, b2 in pts if t2 < t), default=0.0) * t]
        return cls(rate, max(saturated) if saturated else math.inf)


@dataclass(frozen=True)
class Outlook:
    """What the pass simulation says from now on."""

    converges: bool
    seconds: float  # to switchover (inf when it does not converge)
    final_bytes: float  # left for the stop-and-copy at switchover
    passes: int  # passes still to run after the current one


def simulate(remaining: float, pass_elapsed: float, bandwidth: float, threshold: float,
             footprint: Footprint) -> Outlook:
    """Run the passes forward: finish the current one, then each sends what the last left dirty."""
    if bandwidth <= 0:
        return Outlook(False, math.inf, remaining, 0)
    seconds = max(0.0, remaining - threshold) / bandwidth
    length = pass_elapsed + seconds
    previous = math.inf
    for n in range(MAX_PASSES):
        new = footprint.dirtied(length)
        if new < threshold or length < MIN_PASS_S:
            return Outlook(True, seconds, min(new, threshold), n)
        if new >= previous * 0.999 and new >= threshold:
            break  # a fixed point above the threshold: every pass re-sends the hot set
        previous = new
        length = new / bandwidth
        seconds += length
    return Outlook(False, math.inf, footprint.dirtied(length), MAX_PASSES)


class WindowShape(StrEnum):
    """How dirty-rate readings over windows of different lengths relate."""

    NOTHING = "nothing"  # the guest dirtied nothing the samples saw
    STEADY = "steady"  # the same rate over every window
    BURSTS = "bursts"  # a longer window saw fewer bytes than a shorter one: it missed a burst
    HOT_SET = "hot-set"  # longer windows see the same pages again


@dataclass(frozen=True)
class Readings:
    """One estimate from dirty-rate readings, with why they differ."""

    shape: WindowShape
    footprint: Footprint
    points: tuple[tuple[float, float], ...]  # (window seconds, bytes/s), shortest first


def reconcile(windows: Iterable[tuple[float, float]]) -> Readings | None:
    """One estimate from dirty-rate readings over windows of different lengths: ``(window
    seconds, bytes/s)`` in (None without readings).

    A guest that rewrites a hot set reads lower over longer windows (the same pages again);
    one that writes in bursts reads lower over a window that missed a burst."""
    points = tuple(sorted((s, r) for s, r in windows if s > 0 and r >= 0 and math.isfinite(r)))
    fp = Footprint.fit((s, r * s) for s, r in points)
    if fp is None:
        return None
    if fp.rate <= 0:
        return Readings(WindowShape.NOTHING, fp, points)
    longer_less = [(s, r) for s, r in points if r * s < SATURATED * fp.rate * s]
    if not longer_less:
        return Readings(WindowShape.STEADY, fp, points)
    # a longer window that saw clearly fewer bytes than a shorter one missed a burst
    burst = any(r2 * s2 < 0.7 * r1 * s1 for (s1, r1), (s2, r2) in itertools.pairwise(points))
    return Readings(WindowShape.BURSTS if burst else WindowShape.HOT_SET, fp, points)
