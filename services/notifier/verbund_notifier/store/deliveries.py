"""The deliveries table as an outbox: queue a message at most once, lease, hand over, finish, log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.outgoing import Outgoing, notification_id, webhook_payload
from .tables import Delivery

PENDING, SENT, FAILED_STATUS = "pending", "sent", "failed"
HANDING_OVER = "handing_over"
"""The channel is handing the message over (SMTP DATA): if the row stays so, nobody knows whether it arrived."""


async def enqueue(session: AsyncSession, message: Outgoing, now: dt.datetime) -> bool:
    """Add a pending delivery unless this one exists already; True when it was added."""
    nid = notification_id(message.source_event_id, message.recipient, message.channel)
    if await session.get(Delivery, nid) is not None:
        return False
    session.add(
        Delivery(
            notification_id=nid,
            source_event_id=message.source_event_id,
            source_event_type=message.source_event_type,
            network_id=message.network_id,
            recipient=message.recipient,
            channel=message.channel,
            kind=message.kind,
            language=message.language,
            address=message.address,
            subject=message.subject,
            body_text=message.text,
            body_html=message.html,
            calendar=message.calendar,
            calendar_method=message.calendar_method,
            calendar_name=message.calendar_name,
            payload=webhook_payload(message, nid) if message.channel == "webhook" else None,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return True


def _lease_free(now: dt.datetime) -> ColumnElement[bool]:
    return or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) < now)


async def due(session: AsyncSession, now: dt.datetime, limit: int) -> Sequence[str]:
    """Ids of pending deliveries whose time has come and that nobody holds a lease on, oldest first."""
    result = await session.execute(
        select(col(Delivery.notification_id))
        .where(col(Delivery.status) == PENDING, col(Delivery.next_attempt_at) <= now, _lease_free(now))
        .order_by(col(Delivery.created_at))
        .limit(limit)
    )
    return result.scalars().all()


async def claim(session: AsyncSession, nid: str, now: dt.datetime, lease: dt.timedelta) -> bool:
    """Take a lease on a pending row nobody holds; False when another worker was first."""
    result = await session.execute(
        update(Delivery)
        .where(col(Delivery.notification_id) == nid, col(Delivery.status) == PENDING, _lease_free(now))
        .values(lease_until=now + lease)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def abandoned_handovers(session: AsyncSession, now: dt.datetime) -> Sequence[Any]:
    """(id, channel, kind) of rows still being handed over whose lease has run out: their worker is gone."""
    result = await session.execute(
        select(col(Delivery.notification_id), col(Delivery.channel), col(Delivery.kind)).where(
            col(Delivery.status) == HANDING_OVER, _lease_free(now)
        )
    )
    return result.all()


async def give_up_handover(session: AsyncSession, nid: str, now: dt.datetime, error: str) -> bool:
    """Finish an abandoned hand-over as failed with `error`; False when it was not (or no longer) abandoned."""
    result = await session.execute(
        update(Delivery)
        .where(col(Delivery.notification_id) == nid, col(Delivery.status) == HANDING_OVER, _lease_free(now))
        .values(
            status=FAILED_STATUS,
            attempts=col(Delivery.attempts) + 1,
            lease_until=None,
            finished_at=now,
            last_error=error,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def begin_handover(session: AsyncSession, nid: str, now: dt.datetime, lease: dt.timedelta) -> bool:
    """Mark a pending row as being handed over, with a fresh lease; False when it is no longer pending."""
    result = await session.execute(
        update(Delivery)
        .where(col(Delivery.notification_id) == nid, col(Delivery.status) == PENDING)
        .values(status=HANDING_OVER, lease_until=now + lease)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def detached(session: AsyncSession, nid: str) -> Delivery | None:
    """The row as it is now, detached from the session (a channel reads it while no transaction is open)."""
    delivery = await session.get(Delivery, nid)
    if delivery is not None:
        session.expunge(delivery)
    return delivery


async def for_update(session: AsyncSession, nid: str) -> Delivery | None:
    """The row, locked until the transaction ends, to record an outcome on."""
    return await session.get(Delivery, nid, with_for_update=True)


async def unfinished_by_channel(session: AsyncSession) -> dict[str, int]:
    """Deliveries pending or being handed over, per channel."""
    rows = await session.execute(
        select(col(Delivery.channel), func.count())
        .where(col(Delivery.status).in_((PENDING, HANDING_OVER)))
        .group_by(col(Delivery.channel))
    )
    return {channel: int(n) for channel, n in rows.all()}


async def unlogged(session: AsyncSession, limit: int) -> Sequence[Delivery]:
    """Finished rows whose NotificationDelivered/Failed is not published yet, in the order they finished."""
    result = await session.execute(
        select(Delivery)
        .where(col(Delivery.status).in_((SENT, FAILED_STATUS)), col(Delivery.logged).is_(False))
        .order_by(col(Delivery.finished_at))
        .limit(limit)
    )
    return result.scalars().all()


async def mark_logged(session: AsyncSession, nid: str) -> None:
    await session.execute(update(Delivery).where(col(Delivery.notification_id) == nid).values(logged=True))


async def pending_to(session: AsyncSession, network: str, recipient: str) -> int:
    """Messages to this recipient still waiting to be sent."""
    count = await session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(
            col(Delivery.network_id) == network,
            col(Delivery.recipient) == recipient,
            col(Delivery.status) == PENDING,
        )
    )
    return int(count or 0)


async def messages_to(session: AsyncSession, network: str, recipient: str) -> Sequence[Delivery]:
    """Every message held for the recipient in the network, oldest first: what an export shows them."""
    rows = await session.execute(
        select(Delivery)
        .where(col(Delivery.network_id) == network, col(Delivery.recipient) == recipient)
        .order_by(col(Delivery.created_at), col(Delivery.notification_id))
    )
    return rows.scalars().all()
