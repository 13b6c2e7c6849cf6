"""The delivery worker: sends pending deliveries, retries with backoff, dead-letters, and logs each outcome."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable

from prometheus_client import Counter, Gauge
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from verbund_schemas import (
    Channel,
    Envelope,
    NotificationData,
    NotificationDelivered,
    NotificationFailed,
    NotificationFailedData,
)

from .channels import Channel as SendChannel
from .channels import DeliveryError
from .clock import Clock
from .directory import purge_departed
from .settings import NotifierSettings
from .tables import Delivery

log = logging.getLogger(__name__)

DELIVERED = Counter("verbund_notifier_delivered_total", "Messages delivered", ["channel", "kind"])
FAILED = Counter("verbund_notifier_failed_total", "Messages given up on", ["channel", "kind"])
RETRIED = Counter("verbund_notifier_retried_total", "Send attempts that will be retried", ["channel"])
PENDING_GAUGE = Gauge(
    "verbund_notifier_deliveries_pending", "Messages waiting to be sent or retried, read at scrape time", ["channel"]
)

PENDING, SENT, FAILED_STATUS = "pending", "sent", "failed"

Publish = Callable[[Envelope], Awaitable[None]]


def backoff_seconds(attempts: int, settings: NotifierSettings, rng: random.Random) -> float:
    """Exponential in the attempts so far, capped, with jitter so replicas and recipients don't align."""
    delay = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** max(0, attempts - 1))
    return float(delay * (0.5 + rng.random() / 2))


def log_event(delivery: Delivery) -> Envelope:
    """The delivery log entry: ids, role:id and channel only, never names or addresses."""
    common = {
        "notification_id": delivery.notification_id,
        "source_event_id": delivery.source_event_id,
        "source_event_type": delivery.source_event_type,
        "recipient": delivery.recipient,
        "channel": Channel(delivery.channel),
        "kind": delivery.kind,
        "attempts": max(1, delivery.attempts),
        "at": delivery.finished_at or delivery.created_at,
    }
    if delivery.status == SENT:
        return NotificationDelivered(
            id=f"{delivery.notification_id}:delivered",
            source="verbund-notifier",
            subject=delivery.network_id,
            data=NotificationData(**common),
        )
    return NotificationFailed(
        id=f"{delivery.notification_id}:failed",
        source="verbund-notifier",
        subject=delivery.network_id,
        data=NotificationFailedData(**common, error=(delivery.last_error or "unknown error")[:2000]),
    )


class DeliveryWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: dict[str, SendChannel],
        settings: NotifierSettings,
        clock: Clock,
        publish: Publish,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._channels = channels
        self._settings = settings
        self._clock = clock
        self._publish = publish
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._stopping = False
        self._lease = dt.timedelta(
            seconds=2 * max(settings.smtp_timeout_seconds, settings.webhook_timeout_seconds) + 30
        )

    def wake(self) -> None:
        """New deliveries were committed: look now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the current round and leave `run` (a flag, not cancellation, so no send is cut off)."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        # The flag is not cleared on entry: a stop() that came before this task first ran must count.
        try:
            await self._loop()
        finally:
            self._stopping = False

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.run_once()
            except Exception:
                # The database may be away for a moment; nothing is lost, the rows wait.
                log.exception("delivery round failed; trying again")
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.delivery_poll_seconds):
                    await self._wake.wait()
            self._wake.clear()

    async def run_once(self) -> int:
        """Send what is due, publish outstanding log entries, forget departed contacts; returns sends tried."""
        now = self._clock.now()
        async with self._sessions() as session:
            due = (
                (
                    await session.execute(
                        select(col(Delivery.notification_id))
                        .where(
                            col(Delivery.status) == PENDING,
                            col(Delivery.next_attempt_at) <= now,
                            or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) < now),
                        )
                        .order_by(col(Delivery.created_at))
                        .limit(self._settings.delivery_batch_size)
                    )
                )
                .scalars()
                .all()
            )
        tried = 0
        for nid in due:
            if await self._claim(nid):
                tried += 1
                await self._attempt(nid)
        await self.publish_log()
        async with self._sessions.begin() as session:
            await purge_departed(session)
        return tried

    async def _claim(self, nid: str) -> bool:
        """Take a lease on one row so that another replica's worker does not send it too."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Delivery)
                .where(
                    col(Delivery.notification_id) == nid,
                    col(Delivery.status) == PENDING,
                    or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) < now),
                )
                .values(lease_until=now + self._lease)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _attempt(self, nid: str) -> None:
        async with self._sessions() as session:
            delivery = await session.get(Delivery, nid)
            if delivery is None:
                return
            session.expunge(delivery)
        channel = self._channels.get(delivery.channel)
        error: DeliveryError | None = None
        if channel is None:
            error = DeliveryError(f"no channel {delivery.channel!r}; use email or webhook", transient=False)
        else:
            try:
                await channel.send(delivery)
            except DeliveryError as exc:
                error = exc
            except Exception as exc:
                log.exception("unexpected error sending %s", nid)
                error = DeliveryError(f"{type(exc).__name__}: {exc}", transient=True)
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await session.get(Delivery, nid)
            if row is None:
                return
            row.attempts += 1
            row.lease_until = None
            if error is None:
                row.status = SENT
                row.finished_at = now
                row.last_error = None
                # Sent: the message text and address are no longer needed here.
                row.address = row.subject = row.body_text = row.body_html = row.calendar = None
                row.payload = None
                DELIVERED.labels(row.channel, row.kind).inc()
            elif error.transient and row.attempts < self._settings.retry_max_attempts:
                row.last_error = str(error)
                row.next_attempt_at = now + dt.timedelta(
                    seconds=backoff_seconds(row.attempts, self._settings, self._rng)
                )
                RETRIED.labels(row.channel).inc()
                log.warning("delivery %s attempt %d failed, will retry: %s", nid, row.attempts, error)
            else:
                # Dead letter: the row stays with its content and error for an operator to look at.
                row.status = FAILED_STATUS
                row.finished_at = now
                row.last_error = str(error)
                FAILED.labels(row.channel, row.kind).inc()
                log.error("delivery %s given up after %d attempts: %s", nid, row.attempts, error)

    async def count_pending(self) -> dict[str, int]:
        """Pending deliveries per channel (every configured channel listed, so an empty one reads 0)."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(col(Delivery.channel), func.count())
                .where(col(Delivery.status) == PENDING)
                .group_by(col(Delivery.channel))
            )
            counts = {channel: 0 for channel in self._channels}
            counts.update({channel: int(n) for channel, n in rows.all()})
        for channel, n in counts.items():
            PENDING_GAUGE.labels(channel).set(n)
        return counts

    async def publish_log(self) -> int:
        """Publish NotificationDelivered/Failed for finished rows not yet logged (after a crash too)."""
        async with self._sessions() as session:
            rows = (
                (
                    await session.execute(
                        select(Delivery)
                        .where(col(Delivery.status).in_((SENT, FAILED_STATUS)), col(Delivery.logged).is_(False))
                        .order_by(col(Delivery.finished_at))
                        .limit(self._settings.delivery_batch_size)
                    )
                )
                .scalars()
                .all()
            )
        published = 0
        for row in rows:
            await self._publish(log_event(row))
            async with self._sessions.begin() as session:
                await session.execute(
                    update(Delivery).where(col(Delivery.notification_id) == row.notification_id).values(logged=True)
                )
            published += 1
        return published
