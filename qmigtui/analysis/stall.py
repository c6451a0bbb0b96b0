"""Is a precopy making headway?  Our pass-based detector and the common time-window rule.

Within a pass ``remaining`` only falls; at each sync it jumps back up by what the
guest dirtied meanwhile.  So the honest measure of headway is the size left at
the start of each pass: a converging precopy makes a new low there every pass,
a stuck one starts every pass with the same hot set.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from qmigtui.analysis.run import PassStart

NEW_LOW = 0.95  # a pass must start at least 5 % under the best earlier one to count as headway
LOOKBACK = 2  # passes without a new low that make a stall


def stalled_pass(starts: Sequence[PassStart]) -> int | None:
    """Position in ``starts`` of the pass where headway stopped, or None.

    Pass 1 sends all of RAM and is never compared; from pass 2 on, a stall is
    ``LOOKBACK`` pass starts in a row that are no new low.
    """
    later = [s for s in starts if s.sync >= 2]
    best = float("inf")  # lowest start before the lookback window
    for k in range(LOOKBACK, len(later)):
        best = min(best, later[k - LOOKBACK].remaining)
        if all(s.remaining >= NEW_LOW * best for s in later[k - LOOKBACK + 1:k + 1]):
            return starts.index(later[k])
    return None


def reference_stall_time(t: Sequence[float], remaining: Sequence[float],
                         window: float = 40.0, factor: float = 0.96) -> float | None:
    """The orchestrator rule, for comparison: first time at which ``remaining`` stayed at or
    above ``factor`` times the lowest value seen before the last ``window`` seconds."""
    if not t:
        return None
    low_before = float("inf")
    j = 0  # samples [0, j) are older than the window
    recent: deque[int] = deque()  # indices in the window, remaining increasing (sliding minimum)
    for i, now in enumerate(t):
        while recent and remaining[recent[-1]] >= remaining[i]:
            recent.pop()
        recent.append(i)
        while j < i and t[j] <= now - window:
            low_before = min(low_before, remaining[j])
            j += 1
        while recent and recent[0] < j:
            recent.popleft()
        if now - t[0] >= window and low_before < float("inf") and recent \
                and remaining[recent[0]] >= factor * low_before:
            return now
    return None
