"""Units: a replay position as a person types it."""

from __future__ import annotations

import pytest

from qmigtui.model import units


@pytest.mark.parametrize(("text", "seconds"), [("90", 90.0), ("1:30", 90.0), ("1:02:03", 3723.0),
                                               ("90s", 90.0), ("2m", 120.0), ("0.5", 0.5)])
def test_a_replay_position_is_seconds_or_mm_ss(text, seconds):
    assert units.parse_position(text) == seconds


@pytest.mark.parametrize("text", ["soon", "1:xx", "1:2:3:4", ""])
def test_a_position_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        units.parse_position(text)
