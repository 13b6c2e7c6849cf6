"""Keeps one inbound batch from stopping the consumer: retries what may pass, rejects what will not, parks the rest."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from verbund_runtime.retries import FailedByItself, GaveUp, Retries, RetryPolicy

from ..ops import metrics
from .failures import is_transient
from .ingest import BatchOutcome, Record

log = logging.getLogger(__name__)

Handle = Callable[[Sequence[Record]], Awaitable[BatchOutcome]]
Reject = Callable[[Record, str], Awaitable[BatchOutcome]]


@dataclass(frozen=True)
class ParkedRecord:
    """An inbound record set aside after its retries ran out, with what an operator needs to judge it."""

    record: Record
    reason: str
    attempts: int
    first_failure: dt.datetime
    last_failure: dt.datetime


Park = Callable[[Sequence[ParkedRecord]], Awaitable[None]]


class InboundAttempts:
    """Runs `handle` on a batch until it succeeds, the failure proves to be a record's own, or tries run out.

    - A failure that may pass (database or broker away, a timeout, a conflict between replicas) is tried again
      after a pause that doubles, up to `policy.attempts` tries; then the batch's records are parked and the
      consumer moves on (their offsets are committed like any handled record's).
    - Any other failure is the records' own: they are handled one by one, and a record that fails alone is
      rejected once (EventRejected) and skipped.

    `failing` says what is going wrong while a batch is being retried (readiness shows it).
    """

    def __init__(
        self,
        handle: Handle,
        reject: Reject,
        park: Park,
        policy: RetryPolicy = RetryPolicy(),
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._handle, self._reject, self._park = handle, reject, park
        self._retries = Retries(policy, log, transient=is_transient, sleep=sleep)
        self.parked = 0

    @property
    def failing(self) -> str | None:
        return self._retries.failing

    async def run(self, records: Sequence[Record]) -> BatchOutcome:
        try:
            return await self._tried(lambda: self._handle(records), records)
        except FailedByItself as exc:
            if len(records) == 1:
                return await self._rejected(records[0], exc)
            log.warning("batch of %d records failed (%s); handling its records one by one", len(records), exc)
        outcome = BatchOutcome()
        for record in records:
            try:
                outcome.add(await self._tried(lambda r=record: self._handle([r]), [record]))  # type: ignore[misc]
            except FailedByItself as exc:
                outcome.add(await self._rejected(record, exc))
        return outcome

    async def _rejected(self, record: Record, exc: FailedByItself) -> BatchOutcome:
        log.error(
            "inbound record %s[%d]@%d failed by itself (%s); rejecting it and going on",
            record.topic,
            record.partition,
            record.offset,
            exc,
            exc_info=exc.__cause__,
        )
        try:
            return await self._tried(lambda: self._reject(record, str(exc)), [record])
        except FailedByItself:
            # Even the rejection fails: park the record rather than stop the partition.
            now = dt.datetime.now(dt.UTC)
            await self._park_all([record], GaveUp(str(exc), 1, now, now))
            return BatchOutcome(parked=1)

    async def _tried(self, attempt: Callable[[], Awaitable[BatchOutcome]], records: Sequence[Record]) -> BatchOutcome:
        result = await self._retries.run(
            attempt, what=f"batch of {len(records)} records", failed=metrics.BATCH_RETRIES.inc
        )
        if isinstance(result, GaveUp):
            await self._park_all(records, result)
            return BatchOutcome(parked=len(records))
        return result

    async def _park_all(self, records: Sequence[Record], gave_up: GaveUp) -> None:
        reason, attempts = gave_up.reason, gave_up.attempts
        # If the broker is away too, this raises: the consumer then reads the batch again (nothing is lost).
        await self._park(
            [ParkedRecord(r, reason, attempts, gave_up.first_failure, gave_up.last_failure) for r in records]
        )
        self._retries.settled()
        self.parked += len(records)
        metrics.INBOUND_PARKED.inc(len(records))
        for r in records:
            log.error(
                "parked inbound record %s[%d]@%d (key %s) after %d tries: %s; "
                "see `verbund parked list`, replay with `verbund parked replay`",
                r.topic,
                r.partition,
                r.offset,
                r.key_text,
                attempts,
                reason,
                extra={"topic": r.topic, "partition": r.partition, "offset": r.offset, "reason": reason},
            )
