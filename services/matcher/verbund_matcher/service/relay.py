"""Publishes committed outbox rows to Kafka in order with an idempotent producer, then marks them sent."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import topic

from ..ops import metrics
from ..store.tables import OutboxRow, RelayLeaseRow, table_of

log = logging.getLogger(__name__)


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
    ) -> None:
        self._sessions = sessions
        self._bootstrap = bootstrap_servers
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

    def wake(self) -> None:
        """Something was committed to the outbox: publish now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
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
            except Exception:
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
            async with session.begin():
                # Taking the lease row first serialises relays of all replicas: rows go out in commit order.
                # PostgreSQL locks just that row, so the consumers' transactions are not held up meanwhile.
                await session.exec(
                    update(RelayLeaseRow)
                    .where(col(RelayLeaseRow.id) == 1)
                    .values(holder=self._holder, taken_at=dt.datetime.now(dt.UTC))
                )
                rows = await self._unsent(session)
                await self._send(rows)
                await self._mark_sent(session, rows)
                remaining = await self._count_unsent(session)
        return self._account(len(rows), remaining)

    async def _publish_sqlite(self, session: AsyncSession) -> int:
        # SQLite has one write lock for the whole file, which the consumer holds for most of every batch.
        # Marking rows sent after each round would queue the relay behind every batch (and the batch behind
        # the relay), so the relay remembers how far it has published and marks rows sent in one write
        # now and then (and before it stops). SQLite hands out seq under that same lock, so rows become
        # visible in seq order and none can appear below the mark later (seq is the rowid, and outbox rows
        # are never deleted, so SQLite never hands out a number below the highest one again). Should the
        # process die in between, the unmarked rows go out again on restart under the same ids, as after
        # any crash.
        async with session.begin():
            rows = await self._unsent(session, after=self._sent_upto)
        await self._send(rows)
        if rows:
            self._sent_upto = max(self._sent_upto, max(r.seq for r in rows))
        now = asyncio.get_running_loop().time()
        if self._sent_upto > self._marked_upto and (not rows or now - self._marked_at >= self._mark_every):
            await self._mark_upto(session)
        return self._account(len(rows), None)

    async def _mark_upto(self, session: AsyncSession) -> None:
        async with session.begin():
            await session.exec(
                update(OutboxRow)
                .where(col(OutboxRow.seq) <= self._sent_upto, col(OutboxRow.sent_at).is_(None))
                .values(sent_at=dt.datetime.now(dt.UTC))
            )
            remaining = await self._count_unsent(session)
        self._marked_upto = self._sent_upto
        self._marked_at = asyncio.get_running_loop().time()
        metrics.OUTBOX_LAG.set(remaining)

    async def _unsent(self, session: AsyncSession, *, after: int = 0) -> list[Any]:
        """Unsent rows in seq order, as plain rows (seq, topic_role, key, payload)."""
        t = table_of(OutboxRow)
        conn = await session.connection()
        result = await conn.execute(
            sa_select(t.c.seq, t.c.topic_role, t.c.key, t.c.payload)
            .where(t.c.sent_at.is_(None), t.c.seq > after)
            .order_by(t.c.seq)
            .limit(self._batch_size)
        )
        return list(result.all())

    async def _send(self, rows: list[Any]) -> None:
        assert self._producer is not None, "start() the relay first"
        futures = [
            await self._producer.send(topic(r.topic_role), value=r.payload.encode("utf-8"), key=r.key.encode("utf-8"))
            for r in rows
        ]
        await asyncio.gather(*futures)

    async def _mark_sent(self, session: AsyncSession, rows: list[Any]) -> None:
        if rows:
            await session.exec(
                update(OutboxRow)
                .where(col(OutboxRow.seq).in_([r.seq for r in rows]))
                .values(sent_at=dt.datetime.now(dt.UTC))
            )

    async def _count_unsent(self, session: AsyncSession) -> int:
        count = (
            await session.exec(select(func.count()).select_from(OutboxRow).where(col(OutboxRow.sent_at).is_(None)))
        ).one()
        return int(count)

    def _account(self, sent: int, remaining: int | None) -> int:
        metrics.OUTBOX_PUBLISHED.inc(sent)
        if remaining is not None:
            metrics.OUTBOX_LAG.set(remaining)
        self.published += sent
        return sent
