"""evolve gives what dataclasses.replace gives, for plain frozen records only."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import pytest

from qmigtui.analysis.verdict import Cause, Facts, Forecast, Verdict
from qmigtui.model.evolve import evolve


def test_evolve_is_replace_for_a_plain_record_and_leaves_the_original_alone():
    facts = Facts(bandwidth=5.0)
    changed = evolve(facts, remaining=3.0, pass_number=2)
    assert vars(changed) == vars(replace(facts, remaining=3.0, pass_number=2))
    assert facts.remaining != 3.0 and type(changed) is Facts
    with pytest.raises(TypeError, match="no field 'remaning'"):
        evolve(facts, remaning=1.0)
    assert evolve(Forecast(Verdict.GATHERING, Cause.GATHERING), eta=5.0).eta == 5.0


@dataclass(frozen=True)
class Derived:
    a: int
    b: int = field(init=False, default=0)


@dataclass(frozen=True)
class Cached:
    a: int

    @functools.cached_property
    def double(self) -> int:
        return 2 * self.a


def test_a_record_with_derived_state_is_refused():
    with pytest.raises(TypeError, match="not a plain record"):
        evolve(Derived(1), a=2)
    with pytest.raises(TypeError, match="not a plain record"):
        evolve(Cached(1), a=2)
