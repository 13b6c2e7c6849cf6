"""Forgets what the notifier no longer needs: old handled event ids and long-finished deliveries (daily)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from prometheus_client import Counter
from sqlalchemy import CursorResult, Table, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from .deliveries import FAILED_STATUS, HANDING_OVER, PENDING, SENT
from .tables import Delivery, ProcessedEvent

log = logging.getLogger(__name__)

PRUNED = Counter("verbund_notifier_pruned_total", "Rows deleted by the daily prune", ["table"])

# The newest NetworkConfigured id of a network is how the service knows the network's directory exists
# (see `inbox.network_configured`); without it every shortfall would wait for a registration that
# came long ago. There are a handful per network, so they are simply kept.
KEPT_EVENT_TYPES = ("NetworkConfigured",)


@dataclass(frozen=True)
class Pruned:
    inbox: int
    deliveries: int


async def prune(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: dt.datetime,
    inbox_days: float,
    delivery_days: float,
) -> Pruned:
    """Delete inbox ids handled more than `inbox_days` ago and deliveries finished more than `delivery_days` ago.

    Inbox: an id must be remembered as long as Kafka can hand its record over again (the topic's retention
    plus the time until its segment is deleted), or a replay would message people twice.

    Deliveries: only finished ones (sent or given up) whose NotificationDelivered/Failed has been published,
    and only when no message of the same source event is still pending: while one is being retried, the
    event's finished messages stay, so the row that says "already sent to this recipient on this channel"
    exists for as long as anything of that event can still be sent. Pending rows are never deleted.
    """
    deliveries: Table = Delivery.__table__  # type: ignore[attr-defined]
    sibling = deliveries.alias("sibling")
    async with sessions.begin() as session:
        gone_inbox = await session.execute(
            delete(ProcessedEvent).where(
                col(ProcessedEvent.processed_at) < now - dt.timedelta(days=inbox_days),
                col(ProcessedEvent.event_type).not_in(KEPT_EVENT_TYPES),
            )
        )
        still_pending = exists(
            select(sibling.c.notification_id).where(
                sibling.c.source_event_id == deliveries.c.source_event_id,
                sibling.c.status.in_((PENDING, HANDING_OVER)),
            )
        )
        gone_deliveries = await session.execute(
            delete(deliveries).where(
                deliveries.c.status.in_((SENT, FAILED_STATUS)),
                deliveries.c.logged.is_(True),
                deliveries.c.finished_at < now - dt.timedelta(days=delivery_days),
                ~still_pending,
            )
        )
    pruned = Pruned(_rows(gone_inbox), _rows(gone_deliveries))
    PRUNED.labels("processed_events").inc(pruned.inbox)
    PRUNED.labels("deliveries").inc(pruned.deliveries)
    log.info("pruned %d handled event ids and %d finished deliveries", pruned.inbox, pruned.deliveries)
    return pruned


def _rows(result: object) -> int:
    # A DELETE returns a cursor result; its row count is what was deleted.
    return int(result.rowcount or 0) if isinstance(result, CursorResult) else 0
