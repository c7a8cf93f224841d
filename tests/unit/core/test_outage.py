"""Waiting out an unavailable dependency inside one invocation (tick_processor against DynamoDB)."""

from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from mantra.outage import wait_out_outage
from mantra.store.aws import is_unavailable
from pynamodb.exceptions import TransactWriteError


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s

    def monotonic(self) -> float:
        return self.now


def _refused() -> Exception:
    return TransactWriteError("Failed to write transaction items", EndpointConnectionError(endpoint_url="x"))


def _flaky(failures: list[Exception]):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def work() -> str:
        calls["n"] += 1
        if failures:
            raise failures.pop(0)
        return "done"

    return work, calls


def test_work_is_retried_with_growing_delays_while_the_database_is_unreachable() -> None:
    # Given DynamoDB refusing connections three times, then answering
    t = FakeTime()
    work, calls = _flaky([_refused(), _refused(), _refused()])
    # When the work runs with a 50 s budget
    out = wait_out_outage(
        work, is_unavailable, 50, sleep=t.sleep, monotonic=t.monotonic, rng=random.Random(1)
    )
    # Then it succeeds on the fourth try, each wait longer than the one before
    assert out == "done" and calls["n"] == 4
    assert len(t.slept) == 3 and t.slept[0] < t.slept[1] < t.slept[2] <= 5


def test_an_error_that_is_not_an_outage_is_raised_at_once() -> None:
    t = FakeTime()
    refused_by_service = ClientError({"Error": {"Code": "ValidationException", "Message": "bad"}}, "PutItem")
    work, calls = _flaky([refused_by_service])
    with pytest.raises(ClientError):
        wait_out_outage(work, is_unavailable, 50, sleep=t.sleep, monotonic=t.monotonic)
    assert calls["n"] == 1 and t.slept == []


def test_an_outage_longer_than_the_budget_is_raised_before_the_budget_runs_out() -> None:
    # Given a database that never comes back
    t = FakeTime()
    work, calls = _flaky([_refused() for _ in range(1000)])
    # When the budget is 20 s
    with pytest.raises(TransactWriteError):
        wait_out_outage(work, is_unavailable, 20, sleep=t.sleep, monotonic=t.monotonic)
    # Then it gave up without sleeping past the budget, after several tries
    assert t.now <= 20 and calls["n"] > 3


def test_unavailable_means_unreachable_wherever_the_cause_is_wrapped() -> None:
    wrapped = RuntimeError("outer")
    wrapped.__cause__ = _refused()
    assert is_unavailable(_refused()) and is_unavailable(wrapped)
    conditional = ClientError(
        {"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}}, "PutItem"
    )
    assert not is_unavailable(conditional) and not is_unavailable(ValueError("bad tick"))
