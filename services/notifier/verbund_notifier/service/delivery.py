"""The delivery worker: sends pending deliveries, retries with backoff, dead-letters, and logs each outcome."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable

from prometheus_client import Counter, Gauge
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from verbund_schemas import (
    Channel,
    Envelope,
    NotificationData,
    NotificationDelivered,
    NotificationFailed,
    NotificationFailedData,
)

from ..channels.protocol import Channel as SendChannel
from ..channels.protocol import DeliveryError, message_id
from ..clock import Clock
from ..settings import NotifierSettings
from ..store import deliveries
from ..store.deliveries import FAILED_STATUS, HANDING_OVER, PENDING, SENT
from ..store.directory import purge_departed
from ..store.tables import Delivery

log = logging.getLogger(__name__)

DELIVERED = Counter("verbund_notifier_delivered_total", "Messages delivered", ["channel", "kind"])
FAILED = Counter("verbund_notifier_failed_total", "Messages given up on", ["channel", "kind"])
RETRIED = Counter("verbund_notifier_retried_total", "Send attempts that will be retried", ["channel"])
UNCERTAIN = Counter(
    "verbund_notifier_uncertain_total",
    "Messages cut off while being handed over: they may have arrived, and are not sent again",
    ["channel", "kind"],
)
PENDING_GAUGE = Gauge(
    "verbund_notifier_deliveries_pending",
    "Messages waiting to be sent or retried, or being handed over, read at scrape time",
    ["channel"],
)

__all__ = ["HANDING_OVER", "DeliveryWorker", "backoff_seconds", "is_uncertain", "log_event", "uncertain_error"]

UNCERTAIN_REASON = "it may have arrived; not resent so that nobody gets it twice"
NOTIFIER_STOPPED = "the notifier stopped while the mail server was receiving this message"
RECORD_RETRY_MAX_SECONDS = 5.0


def uncertain_error(notification_id: str, cause: str) -> str:
    """The error of a message that may or may not have arrived, with what an operator looks it up by."""
    return f"{cause}; {UNCERTAIN_REASON}; Message-ID {message_id(notification_id)}"


def is_uncertain(error: str | None) -> bool:
    """Whether a failed delivery's error says it may have arrived (as opposed to surely not)."""
    return error is not None and UNCERTAIN_REASON in error


Publish = Callable[[Envelope], Awaitable[None]]


def backoff_seconds(attempts: int, settings: NotifierSettings, rng: random.Random) -> float:
    """Exponential in the attempts so far, capped, with jitter so replicas and recipients don't align."""
    delay = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** max(0, attempts - 1))
    return float(delay * (0.5 + rng.random() / 2))


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands the stored UTC moment back without its zone.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def log_event(delivery: Delivery) -> Envelope:
    """The delivery log entry: ids, role:id and channel only, never names or addresses.

    Built only from fields that no longer change once the row is finished (its `time` too, instead of the
    moment of publishing), so publishing it again after a crash repeats the same record.
    """
    finished = delivery.finished_at or delivery.created_at
    common = {
        "notification_id": delivery.notification_id,
        "source_event_id": delivery.source_event_id,
        "source_event_type": delivery.source_event_type,
        "recipient": delivery.recipient,
        "channel": Channel(delivery.channel),
        "kind": delivery.kind,
        "attempts": max(1, delivery.attempts),
        "at": finished,
    }
    if delivery.status == SENT:
        return NotificationDelivered(
            id=f"{delivery.notification_id}:delivered",
            time=_utc(finished),
            source="verbund-notifier",
            subject=delivery.network_id,
            data=NotificationData(**common),
        )
    return NotificationFailed(
        id=f"{delivery.notification_id}:failed",
        time=_utc(finished),
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
        await self.settle_unfinished_handovers()
        now = self._clock.now()
        async with self._sessions() as session:
            due = await deliveries.due(session, now, self._settings.delivery_batch_size)
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
            return await deliveries.claim(session, nid, now, self._lease)

    async def settle_unfinished_handovers(self) -> int:
        """Give up, as uncertain, each message whose hand-over was begun by a worker that is gone.

        Its lease ran out while it was handing the message over (SMTP DATA): the mail server may have taken
        it. Sending it again could deliver it twice, so it ends as failed with a reason that says so and the
        Message-ID to look it up by; NotificationFailed tells the operator.
        """
        now = self._clock.now()
        async with self._sessions() as session:
            rows = await deliveries.abandoned_handovers(session, now)
        settled = 0
        for nid, channel, kind in rows:
            error = uncertain_error(nid, NOTIFIER_STOPPED)
            async with self._sessions.begin() as session:
                given_up = await deliveries.give_up_handover(session, nid, now, error)
            if given_up:
                settled += 1
                FAILED.labels(channel, kind).inc()
                UNCERTAIN.labels(channel, kind).inc()
                log.error("delivery %s not sent again: %s", nid, error)
        return settled

    async def _hand_over(self, nid: str) -> None:
        """Record that the message is leaving now; only a row still pending (ours) may be handed over."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            # A fresh lease: the hand-over may take the whole SMTP timeout.
            if not await deliveries.begin_handover(session, nid, now, self._lease):
                raise DeliveryError(f"delivery {nid} is no longer pending here; not handed over", transient=True)

    async def _attempt(self, nid: str) -> None:
        async with self._sessions() as session:
            delivery = await deliveries.detached(session, nid)
        if delivery is None:
            return
        channel = self._channels.get(delivery.channel)
        error: DeliveryError | None = None
        handed_over = False

        async def before_handover() -> None:
            nonlocal handed_over
            await self._hand_over(nid)
            handed_over = True

        if channel is None:
            error = DeliveryError(f"no channel {delivery.channel!r}; use email or webhook", transient=False)
        else:
            try:
                await channel.send(delivery, before_handover)
            except DeliveryError as exc:
                error = exc
            except Exception as exc:
                log.exception("unexpected error sending %s", nid)
                error = DeliveryError(f"{type(exc).__name__}: {exc}", transient=True)
        await self._record_outcome(nid, error, HANDING_OVER if handed_over else PENDING)

    async def _record_outcome(self, nid: str, error: DeliveryError | None, expected: str) -> None:
        """Record the outcome, trying again while the database is away: a message handed over and then
        forgotten here would end as uncertain, although it is known how it went."""
        pause = 0.2
        while True:
            try:
                await self._record(nid, error, expected)
                return
            except (SQLAlchemyError, OSError) as exc:
                if self._stopping:
                    raise
                log.warning(
                    "cannot record the outcome of delivery %s (%s: %s); trying again in %.1f s",
                    nid,
                    type(exc).__name__,
                    exc,
                    pause,
                )
                await asyncio.sleep(pause)
                pause = min(2 * pause, RECORD_RETRY_MAX_SECONDS)

    async def _record(self, nid: str, error: DeliveryError | None, expected: str) -> None:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await deliveries.for_update(session, nid)
            if row is None:
                return
            if row.status != expected:
                # Another worker settled it meanwhile (its lease had run out); its record stands.
                log.warning(
                    "delivery %s is %s, not %s, by now; its outcome here (%s) is not recorded",
                    nid,
                    row.status,
                    expected,
                    "sent" if error is None else error,
                )
                return
            row.attempts += 1
            row.lease_until = None
            if error is None:
                row.status = SENT
                row.finished_at = now
                row.last_error = None
                # The text stays until the delivery retention prunes it: a learner's export (GDPR Art. 15) shows
                # what was sent to them, and an erasure deletes it with the rest.
                DELIVERED.labels(row.channel, row.kind).inc()
            elif error.uncertain:
                row.status = FAILED_STATUS
                row.finished_at = now
                row.last_error = uncertain_error(nid, str(error))
                FAILED.labels(row.channel, row.kind).inc()
                UNCERTAIN.labels(row.channel, row.kind).inc()
                log.error("delivery %s not sent again: %s", nid, row.last_error)
            elif error.transient and row.attempts < self._settings.retry_max_attempts:
                row.status = PENDING
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
        """Deliveries not finished per channel, those being handed over too (every configured channel listed, so an
        empty one reads 0)."""
        async with self._sessions() as session:
            counts = {channel: 0 for channel in self._channels}
            counts.update(await deliveries.unfinished_by_channel(session))
        for channel, n in counts.items():
            PENDING_GAUGE.labels(channel).set(n)
        return counts

    async def publish_log(self) -> int:
        """Publish NotificationDelivered/Failed for finished rows not yet logged (after a crash too)."""
        async with self._sessions() as session:
            rows = await deliveries.unlogged(session, self._settings.delivery_batch_size)
        published = 0
        for row in rows:
            await self._publish(log_event(row))
            async with self._sessions.begin() as session:
                await deliveries.mark_logged(session, row.notification_id)
            published += 1
        return published
