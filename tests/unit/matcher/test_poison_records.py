"""A batch that fails: a record's own failure is rejected once and the rest applied; a passing one is retried, then
parked; only when parking fails too does the batch go back to Kafka."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import pytest
from forced_network import ForcedNetwork, encode
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_matcher.service.ingest import BatchOutcome, Record, handle_batch, reject_unprocessable
from verbund_matcher.service.poison import InboundAttempts, ParkedRecord, RetryPolicy
from verbund_matcher.service.replan import PlannerSettings

Sessions = async_sessionmaker[AsyncSession]
TODAY = dt.date(2030, 12, 2)
PLANNER = PlannerSettings(workers=1)
QUICK = RetryPolicy(attempts=3, backoff_seconds=0.01)


def records(events: list[dict[str, object]]) -> list[Record]:
    return [Record("in", 0, i, str(e["subject"]).encode(), encode(e)) for i, e in enumerate(events)]


class Breaks:
    """The real batch handling, except that any batch holding the record at `offset` fails with `error`."""

    def __init__(self, sessions: Sessions, offset: int, error: Exception, times: int = 1_000) -> None:
        self.sessions, self.offset, self.error, self.times = sessions, offset, error, times
        self.calls = 0

    async def __call__(self, batch: Sequence[Record]) -> BatchOutcome:
        self.calls += 1
        if self.times > 0 and any(r.offset == self.offset for r in batch):
            self.times -= 1
            raise self.error
        return await handle_batch(self.sessions, batch, today=lambda: TODAY, planner=PLANNER)


async def no_sleep(_: float) -> None:
    return None


async def stored(sessions: Sessions, sql: str) -> list[tuple[object, ...]]:
    async with sessions() as session:
        return [tuple(r) for r in (await (await session.connection()).execute(text(sql))).all()]


async def test_a_record_that_fails_by_itself_is_rejected_once_and_the_others_are_applied(sessions: Sessions) -> None:
    events = ForcedNetwork("poison-own").registered(2)
    batch = records(events)
    parked: list[ParkedRecord] = []

    async def park(p: Sequence[ParkedRecord]) -> None:
        parked.extend(p)

    async def reject(record: Record, failure: str) -> BatchOutcome:
        return await reject_unprocessable(sessions, record, failure, max_event_bytes=262_144)

    attempts = InboundAttempts(Breaks(sessions, 6, KeyError("a bug")), reject, park, QUICK, sleep=no_sleep)
    outcome = await attempts.run(batch)
    again = await attempts.run(batch)  # read again after a crash before the offsets were committed

    assert (outcome.applied, outcome.rejected, outcome.parked) == (7, 1, 0)
    assert again.duplicates == 8 and again.rejected == 0
    assert not parked
    rejections = await stored(sessions, "SELECT payload FROM outbox WHERE event_type = 'EventRejected'")
    assert len(rejections) == 1
    data = json.loads(str(rejections[0][0]))["data"]
    assert data["offset"] == 6 and "KeyError" in data["reason"] and data["original_event_id"] == events[6]["id"]
    inbox = await stored(sessions, "SELECT outcome, count(*) FROM inbox GROUP BY outcome ORDER BY outcome")
    assert inbox == [("applied", 7), ("rejected", 1)]


async def test_a_failure_that_may_pass_is_retried_and_applied_when_it_passes(sessions: Sessions) -> None:
    batch = records(ForcedNetwork("poison-passing").registered(1))
    handle = Breaks(sessions, 0, OperationalError("SELECT", {}, OSError("connection refused")), times=2)

    async def never(*_: object) -> BatchOutcome:
        raise AssertionError("nothing is rejected or parked")

    outcome = await InboundAttempts(handle, never, never, QUICK, sleep=no_sleep).run(batch)
    assert handle.calls == 3 and outcome.applied == len(batch)


async def test_a_failure_that_does_not_pass_in_time_parks_the_batch_and_a_failing_park_goes_back_to_kafka(
    sessions: Sessions,
) -> None:
    batch = records(ForcedNetwork("poison-parked").registered(1))
    down = OperationalError("SELECT", {}, OSError("connection refused"))
    parked: list[ParkedRecord] = []

    async def park(p: Sequence[ParkedRecord]) -> None:
        parked.extend(p)

    async def reject(record: Record, failure: str) -> BatchOutcome:
        raise AssertionError("a database that is down is not the record's fault")

    attempts = InboundAttempts(Breaks(sessions, 0, down), reject, park, QUICK, sleep=no_sleep)
    outcome = await attempts.run(batch)
    assert outcome.parked == len(batch) and [p.record for p in parked] == batch
    assert {p.attempts for p in parked} == {3} and "connection refused" in parked[0].reason
    assert attempts.parked == len(batch) and attempts.failing is None

    async def broker_gone(p: Sequence[ParkedRecord]) -> None:
        raise ConnectionError("broker gone too")

    with pytest.raises(ConnectionError):
        await InboundAttempts(Breaks(sessions, 0, down), reject, broker_gone, QUICK, sleep=no_sleep).run(batch)
