"""The migration status as a type: its classes from the one table of states, for every state
of QEMU 7.2 to 11.1, and a status of a future QEMU still fits."""

from __future__ import annotations

import pytest

from qmigtui.model.states import MEANING, Status
from tests.model.test_live_schema import VERSIONS, schema_of


@pytest.mark.parametrize("version", VERSIONS)
def test_every_status_a_qemu_reports_has_a_meaning_and_fits_its_classes(version):
    for text in schema_of(version).statuses:
        status = Status(text)
        assert status.meaning == MEANING[text]
        assert status.idle != status.running or text == "none", text  # under way or not


def test_the_classes_say_what_the_desk_and_the_forecast_ask():
    assert Status("completed").ended and Status("completed").idle and not Status("completed").running
    assert Status("failing").failed and Status("failing").running and not Status("failing").ended
    assert Status("postcopy-paused").paused and Status("postcopy-paused").postcopy
    assert Status("postcopy-recover-setup").recovering and not Status("postcopy-recover-setup").pausable
    assert Status("postcopy-active").pausable and not Status("postcopy-active").cancellable
    assert Status("device").continuable and Status("active").cancellable
    assert Status("active") == "active" and f"{Status('active')}" == "active"  # still the text


def test_a_status_of_a_future_qemu_is_under_way_and_in_no_class_it_cannot_be_known_to_be_in():
    future = Status("postcopy-teleporting")
    assert future.running and not future.idle and not future.ended and not future.failed
    assert not (future.postcopy or future.cancellable or future.pausable or future.continuable)
    assert "does not know" in future.meaning
