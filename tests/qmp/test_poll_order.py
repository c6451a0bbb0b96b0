"""PollOrder: which query-migrate answers a MIGRATION event overtook, on the wire's order."""

from __future__ import annotations

from qmigtui.qmp.poll_order import PollOrder


def poll(n: str) -> dict:
    return {"execute": "query-migrate", "id": n}


def answer(n: str, status: str) -> dict:
    return {"return": {"status": status}, "id": n}


def event(status: str) -> dict:
    return {"event": "MIGRATION", "data": {"status": status}}


def test_an_answer_after_an_event_announcing_another_state_is_overtaken():
    order = PollOrder()
    order.sent(poll("a"))
    order.event(event("active"))
    assert order.answered(answer("a", "setup")) is True


def test_an_answer_that_agrees_with_the_event_or_came_first_is_not():
    order = PollOrder()
    order.sent(poll("a"))
    order.event(event("active"))
    assert order.answered(answer("a", "active")) is False
    order.sent(poll("b"))
    assert order.answered(answer("b", "active")) is False
    order.event(event("completed"))  # after the answer: nothing to say about it
    order.sent(poll("c"))
    assert order.answered(answer("c", "completed")) is False


def test_other_commands_and_unknown_ids_are_none():
    order = PollOrder()
    order.sent({"execute": "query-migrate-parameters", "id": "p"})
    order.event(event("active"))
    assert order.answered({"return": {}, "id": "p"}) is None
    assert order.answered(answer("never-sent", "setup")) is None
    order.event({"event": "MIGRATION_PASS", "data": {"pass": 2}})
    assert order.events == 1 and order.announced == "active"
