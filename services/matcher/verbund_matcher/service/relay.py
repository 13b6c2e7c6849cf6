"""Publishes committed outbox rows to Kafka in order with an idempotent producer, then marks them sent.

A row Kafka refuses (too large, a topic that rejects it) is tried a few times on its own, then parked with a notice
on the parked topic, and the rows after it flow; a broker that is down is waited out, row by row nothing is parked
for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import case, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_runtime.kafka import KafkaSecurity, client_options
from verbund_schemas import topic

from ..ops import metrics
from ..ops.stages import PublishWatch, Stage, observe
from ..store.tables import OutboxRow, RelayLeaseRow, table_of
from .failures import describe, is_transient
from .parking import ParkedOutboxRow, outbox_notice

log = logging.getLogger(__name__)


class BrokerUnavailable(Exception):
    """Kafka could not be reached for some rows; they stay unsent and are tried again after a pause."""


@dataclass
class _Sent:
    """What one round of sends came to, by outbox seq."""

    sent: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # Kafka will not take the row: the row's own problem
    unreachable: BaseException | None = None  # the broker did not answer for some row

    @property
    def failed(self) -> bool:
        return bool(self.refused) or self.unreachable is not None


@dataclass(frozen=True)
class OutboxHealth:
    """Unsent rows the relay still tries (and the age of the oldest), and rows parked for an operator."""

    unsent: int
    oldest_unsent_seconds: float
    parked: int


async def outbox_health(sessions: async_sessionmaker[AsyncSession], now: dt.datetime | None = None) -> OutboxHealth:
    """Read from the table, so the numbers are true even while the relay itself is stuck or crashed."""
    t = table_of(OutboxRow)
    async with sessions() as session:
        conn = await session.connection()
        unsent, oldest = (
            await conn.execute(
                sa_select(func.count(), func.min(t.c.created_at)).where(t.c.sent_at.is_(None), t.c.parked_at.is_(None))
            )
        ).one()
        parked = (await conn.execute(sa_select(func.count()).where(t.c.parked_at.is_not(None)))).scalar_one()
    age = 0.0
    if oldest is not None:
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)  # SQLite hands back what it was given, without the zone
        age = max(0.0, ((now or dt.datetime.now(dt.UTC)) - oldest).total_seconds())
    health = OutboxHealth(int(unsent), age, int(parked))
    metrics.OUTBOX_LAG.set(health.unsent)
    metrics.OUTBOX_OLDEST_UNSENT.set(health.oldest_unsent_seconds)
    metrics.OUTBOX_PARKED.set(health.parked)
    return health


class Relay:
    """The outbox relay: a background task per process; relays of several replicas take turns on a lease row.

    A crash between publishing and marking rows sent publishes them again on restart with the same
    event ids; consumers downstream drop what they have seen (at-least-once on the wire, effectively
    once for anyone who dedups by id).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bootstrap_servers: str,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
        client_id: str = "verbund-matcher-relay",
        mark_every_seconds: float = 1.0,
        max_attempts: int = 3,
        max_request_size: int = 1048576,
        security: KafkaSecurity | None = None,
        watch: PublishWatch | None = None,
    ) -> None:
        self._sessions = sessions
        # Times the pick-up delay and the publishing of committed batches (ops.stages); None: not timed.
        self._watch = watch
        self._bootstrap = bootstrap_servers
        self._security = security
        self._batch_size = batch_size
        self._poll = poll_seconds
        self._client_id = client_id
        self._holder = f"{socket.gethostname()}:{os.getpid()}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._producer: AIOKafkaProducer | None = None
        self._stopping = False
        self.published = 0
        # SQLite only (see _publish_sqlite): published up to this seq; marked sent up to that one, when.
        self._sent_upto = 0
        self._marked_upto = 0
        self._marked_at = 0.0
        self._mark_every = mark_every_seconds
        self._max_attempts = max_attempts
        self._max_request_size = max_request_size
        # Why the last round failed (None: it did not), for readiness and the operator.
        self.last_failure: str | None = None

    @property
    def running(self) -> bool:
        """The relay task is alive (it only ends when stopped)."""
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """Something was committed to the outbox: publish now rather than at the next poll."""
        if self._watch is not None:
            self._watch.woken()
        self._wake.set()

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            **client_options(self._bootstrap, self._security),
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            max_request_size=self._max_request_size,
        )
        await self._producer.start()
        self._task = asyncio.create_task(self._run(), name="verbund-outbox-relay")

    async def stop(self) -> None:
        """Publish what is committed, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=30)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def _run(self) -> None:
        backoff = self._poll
        while True:
            try:
                sent = await self.publish_once()
                backoff = self._poll
            except asyncio.CancelledError:
                raise
            except BrokerUnavailable as exc:
                metrics.RELAY_FAILURES.labels(kind="broker").inc()
                self.last_failure = str(exc)
                log.warning("outbox relay: %s; retrying in %.1fs", exc, backoff)
                sent = 0
                backoff = min(backoff * 2, 10.0)
                await asyncio.sleep(backoff)
            except Exception as exc:
                metrics.RELAY_FAILURES.labels(kind="database").inc()
                self.last_failure = describe(exc)
                log.exception("outbox relay round failed; retrying in %.1fs", backoff)
                sent = 0
                backoff = min(backoff * 2, 10.0)
                await asyncio.sleep(backoff)
            if sent:
                continue
            if self._stopping:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)

    async def publish_once(self) -> int:
        """Publish one round of unsent rows in order; returns how many were sent."""
        async with self._sessions() as session:
            if session.get_bind().dialect.name == "sqlite":
                return await self._publish_sqlite(session)
            if self._watch is not None:
                self._watch.reading()
            async with session.begin():
                # Taking the lease row first serialises relays of all replicas: rows go out in commit order.
                # PostgreSQL locks just that row, so the consumers' transactions are not held up meanwhile.
                await session.exec(
                    update(RelayLeaseRow)
                    .where(col(RelayLeaseRow.id) == 1)
                    .values(holder=self._holder, taken_at=dt.datetime.now(dt.UTC))
                )
                rows = await self._unsent(session)
                outcome = await self._send(rows)
                await self._mark_sent(session, outcome.sent)
                await self._refused(session, rows, outcome.refused)
                remaining = await self._count_unsent(session)
        return self._account(outcome, remaining)

    async def _publish_sqlite(self, session: AsyncSession) -> int:
        # SQLite has one write lock for the whole file, which the consumer holds for most of every batch.
        # Marking rows sent after each round would queue the relay behind every batch (and the batch behind
        # the relay), so the relay remembers how far it has published and marks rows sent in one write
        # now and then (and before it stops). SQLite hands out seq under that same lock, so rows become
        # visible in seq order and none can appear below the mark later (seq is the rowid, and outbox rows
        # are never deleted, so SQLite never hands out a number below the highest one again). Should the
        # process die in between, the unmarked rows go out again on restart under the same ids, as after
        # any crash.
        if self._watch is not None:
            self._watch.reading()
        async with session.begin():
            rows = await self._unsent(session, after=self._sent_upto)
        outcome = await self._send(rows)
        if outcome.failed:
            # Rare: write now what went out and what was refused, and publish again from the first row that
            # did not go out (the ones after it that did are marked sent, so they are not read again).
            failed = min([*outcome.refused, *(r.seq for r in rows if r.seq not in set(outcome.sent))])
            async with session.begin():
                await self._mark_sent(session, outcome.sent)
                await self._refused(session, rows, outcome.refused)
            self._sent_upto = max(self._sent_upto, failed - 1)
        elif rows:
            self._sent_upto = max(self._sent_upto, max(r.seq for r in rows))
        now = asyncio.get_running_loop().time()
        if self._sent_upto > self._marked_upto and (not rows or now - self._marked_at >= self._mark_every):
            await self._mark_upto(session)
        return self._account(outcome, None)

    async def _mark_upto(self, session: AsyncSession) -> None:
        async with session.begin():
            await session.exec(
                update(OutboxRow)
                .where(
                    col(OutboxRow.seq) <= self._sent_upto,
                    col(OutboxRow.sent_at).is_(None),
                    col(OutboxRow.parked_at).is_(None),
                )
                .values(sent_at=dt.datetime.now(dt.UTC))
            )
            remaining = await self._count_unsent(session)
        self._marked_upto = self._sent_upto
        self._marked_at = asyncio.get_running_loop().time()
        metrics.OUTBOX_LAG.set(remaining)

    async def _unsent(self, session: AsyncSession, *, after: int = 0) -> list[Any]:
        """Unsent, unparked rows in seq order, as plain rows (seq, topic_role, key, payload, event ids)."""
        t = table_of(OutboxRow)
        conn = await session.connection()
        result = await conn.execute(
            sa_select(t.c.seq, t.c.topic_role, t.c.key, t.c.payload, t.c.event_id, t.c.event_type, t.c.attempts)
            .where(t.c.sent_at.is_(None), t.c.parked_at.is_(None), t.c.seq > after)
            .order_by(t.c.seq)
            .limit(self._batch_size)
        )
        return list(result.all())

    async def _send(self, rows: list[Any]) -> _Sent:
        """Send the rows together; those that fail for a reason of their own are sent again one by one, so a
        row is only held responsible for what Kafka says about it alone."""
        outcome = _Sent()
        started = time.perf_counter()
        pending: list[tuple[Any, asyncio.Future[Any]]] = []
        suspects: list[Any] = []
        for r in rows:
            try:
                pending.append((r, await self._submit(r)))
            except Exception as exc:
                if is_transient(exc):
                    outcome.unreachable = exc
                    break  # the broker is away: the rest would only wait for it one by one
                suspects.append(r)
        results = await asyncio.gather(*(f for _, f in pending), return_exceptions=True)
        for (r, _), result in zip(pending, results, strict=True):
            if not isinstance(result, BaseException):
                outcome.sent.append(r.seq)
            elif is_transient(result):
                outcome.unreachable = result
            else:
                suspects.append(r)
        for r in sorted(suspects, key=lambda r: r.seq):
            if outcome.unreachable is not None:
                break
            try:
                await (await self._submit(r))
            except Exception as exc:
                if is_transient(exc):
                    outcome.unreachable = exc
                else:
                    outcome.refused[r.seq] = describe(exc)
            else:
                outcome.sent.append(r.seq)
        if rows:
            observe(Stage.PUBLISH, time.perf_counter() - started)
            if self._watch is not None:
                self._plans_published(rows, outcome.sent)
        return outcome

    def _plans_published(self, rows: list[Any], sent: list[int]) -> None:
        assert self._watch is not None
        acknowledged = set(sent)
        for r in rows:
            if r.event_type == "PlanPublished" and r.seq in acknowledged:
                self._watch.plan_published(r.key)

    async def _submit(self, r: Any) -> asyncio.Future[Any]:
        assert self._producer is not None, "start() the relay first"
        future: asyncio.Future[Any] = await self._producer.send(
            topic(r.topic_role), value=r.payload.encode("utf-8"), key=r.key.encode("utf-8")
        )
        return future

    async def _mark_sent(self, session: AsyncSession, seqs: list[int]) -> None:
        if seqs:
            await session.exec(
                update(OutboxRow).where(col(OutboxRow.seq).in_(seqs)).values(sent_at=dt.datetime.now(dt.UTC))
            )

    async def _refused(self, session: AsyncSession, rows: list[Any], refused: dict[int, str]) -> None:
        """Count an attempt for each refused row; park it at the limit (the relay skips it from then on).

        A parked row's notice goes to the parked topic before the transaction that parks it commits: a crash in
        between leaves the row unparked (it is tried and parked again, with a second notice that `verbund parked`
        shows in place of the first), never parked without a notice.
        """
        if not refused:
            return
        now = dt.datetime.now(dt.UTC)
        t = table_of(OutboxRow)
        conn = await session.connection()
        by_seq = {r.seq: r for r in rows}
        parked: list[ParkedOutboxRow] = []
        for seq, reason in refused.items():
            row = by_seq[seq]
            attempts = int(row.attempts) + 1
            parks = attempts >= self._max_attempts
            await conn.execute(
                update(t)
                .where(t.c.seq == seq)
                .values(
                    attempts=t.c.attempts + 1,
                    last_error=reason,
                    parked_at=case((t.c.attempts + 1 >= self._max_attempts, now), else_=t.c.parked_at),
                )
            )
            metrics.RELAY_FAILURES.labels(kind="refused").inc()
            fields = {"seq": seq, "event_id": row.event_id, "event_type": row.event_type, "key": row.key}
            if parks:
                parked.append(
                    ParkedOutboxRow(
                        seq=seq,
                        event_id=row.event_id,
                        event_type=row.event_type,
                        topic_role=row.topic_role,
                        key=row.key,
                        payload=row.payload,
                        attempts=attempts,
                        reason=reason,
                        parked_at=now,
                    )
                )
                metrics.OUTBOX_PARKED_TOTAL.inc()
                log.error(
                    "outbox row %d (%s %s, network %s) parked after %d attempts: %s; later rows go on. "
                    "See `verbund parked list`",
                    seq,
                    row.event_type,
                    row.event_id,
                    row.key,
                    attempts,
                    reason,
                    extra={**fields, "attempts": attempts, "reason": reason},
                )
            else:
                log.warning(
                    "Kafka refused outbox row %d (%s %s), attempt %d of %d: %s",
                    seq,
                    row.event_type,
                    row.event_id,
                    attempts,
                    self._max_attempts,
                    reason,
                    extra={**fields, "attempts": attempts, "reason": reason},
                )
        await self._announce(parked)

    async def _announce(self, parked: list[ParkedOutboxRow]) -> None:
        """Put a notice of each parked row on the parked topic, where `verbund parked` lists it."""
        assert self._producer is not None, "start() the relay first"
        for row in parked:
            notice = outbox_notice(row)
            try:
                await self._producer.send_and_wait(
                    topic("parked"),
                    value=notice.value,
                    key=notice.key,
                    headers=[(k, v.encode("utf-8")) for k, v in notice.headers.items()],
                )
            except Exception as exc:
                # Rolls back the round: the row stays unparked and is tried again once the broker takes notices.
                raise BrokerUnavailable(
                    f"the notice of parked outbox row {row.seq} was not taken: {describe(exc)}"
                ) from exc

    async def _count_unsent(self, session: AsyncSession) -> int:
        count = (
            await session.exec(
                select(func.count())
                .select_from(OutboxRow)
                .where(col(OutboxRow.sent_at).is_(None), col(OutboxRow.parked_at).is_(None))
            )
        ).one()
        return int(count)

    def _account(self, outcome: _Sent, remaining: int | None) -> int:
        sent = len(outcome.sent)
        metrics.OUTBOX_PUBLISHED.inc(sent)
        if remaining is not None:
            metrics.OUTBOX_LAG.set(remaining)
        self.published += sent
        if outcome.unreachable is not None:
            raise BrokerUnavailable(f"Kafka did not take outbox rows: {describe(outcome.unreachable)}")
        if not outcome.refused:
            self.last_failure = None
        return sent
