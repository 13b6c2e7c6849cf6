"""Shared retries: a failure that may pass is tried again with a doubling pause, one that will not is not."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError
from verbund_runtime.failures import describe, is_transient
from verbund_runtime.retries import FailedByItself, GaveUp, Retries, RetryPolicy

log = logging.getLogger(__name__)


class LostLock(Exception):
    pass


def test_a_database_away_may_pass_a_bad_value_will_not_and_a_service_names_its_own() -> None:
    away = OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))
    assert is_transient(away)
    assert not is_transient(ValueError("week 2027-W99 does not exist"))
    assert not is_transient(LostLock())
    assert is_transient(LostLock(), LostLock)
    # Wrapped: the cause decides.
    try:
        raise RuntimeError("handling failed") from away
    except RuntimeError as wrapped:
        assert is_transient(wrapped)


def test_a_description_is_one_bounded_line_with_the_type() -> None:
    assert describe(ValueError("first line\nsecond line")) == "ValueError: first line"
    assert describe(KeyError()) == "KeyError"
    assert len(describe(ValueError("x" * 2000))) == 500


async def test_pauses_double_up_to_the_limit_and_the_last_try_gives_up() -> None:
    pauses: list[float] = []
    failures: list[int] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    async def away() -> None:
        raise TimeoutError("no answer")

    retries = Retries(RetryPolicy(attempts=5, backoff_seconds=1.0, max_backoff_seconds=3.0), log, sleep=sleep)
    result = await retries.run(away, what="batch of 1 records", failed=lambda: failures.append(1))
    assert isinstance(result, GaveUp)
    assert (result.reason, result.attempts) == ("TimeoutError: no answer", 5)
    assert result.first_failure <= result.last_failure
    assert pauses == [1.0, 2.0, 3.0, 3.0]
    assert len(failures) == 5
    assert retries.failing == "TimeoutError: no answer (try 4 of 5; next in 3 s)"
    retries.settled()
    assert retries.failing is None


async def test_work_that_fails_by_itself_is_not_tried_again() -> None:
    tries: list[int] = []

    async def bad() -> None:
        tries.append(1)
        raise ValueError("unknown module M-9")

    async def no_sleep(_: float) -> None:
        raise AssertionError("a failure of the work's own is not waited for")

    with pytest.raises(FailedByItself, match="ValueError: unknown module M-9") as caught:
        await Retries(RetryPolicy(), log, sleep=no_sleep).run(bad, what="event", failed=lambda: None)
    assert isinstance(caught.value.__cause__, ValueError)
    assert tries == [1]


async def test_work_that_passes_on_a_later_try_returns_its_result() -> None:
    answers = iter([TimeoutError("slow"), None])

    async def flaky() -> str:
        answer = next(answers)
        if answer is not None:
            raise answer
        return "applied"

    async def sleep(_: float) -> None:
        pass

    retries = Retries(RetryPolicy(), log, sleep=sleep)
    assert await retries.run(flaky, what="event", failed=lambda: None) == "applied"
    assert retries.failing is None
