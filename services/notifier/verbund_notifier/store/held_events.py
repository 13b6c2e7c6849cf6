"""Events held until whom they concern is registered, kept in arrival order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from verbund_schemas import Envelope, encode_event

from .tables import HeldEvent


def hold(session: AsyncSession, event: Envelope, subject_key: str, now: dt.datetime) -> None:
    """Keep the event as consumed, behind any held before it."""
    session.add(
        HeldEvent(
            network_id=event.network_id,
            event_id=event.id,
            event_type=event.type,
            subject_key=subject_key,
            body=encode_event(event).decode("utf-8"),
            held_at=now,
        )
    )


async def any_held_about(session: AsyncSession, network: str, subject_key: str) -> bool:
    """Whether an earlier event about the same assignment, shortfall or deficit waits."""
    earlier = await session.scalar(
        select(col(HeldEvent.seq))
        .where(col(HeldEvent.network_id) == network, col(HeldEvent.subject_key) == subject_key)
        .limit(1)
    )
    return earlier is not None


async def held_in_order(session: AsyncSession, network: str) -> Sequence[HeldEvent]:
    """A network's held events, oldest first."""
    result = await session.execute(
        select(HeldEvent).where(col(HeldEvent.network_id) == network).order_by(col(HeldEvent.seq))
    )
    return result.scalars().all()


async def release(session: AsyncSession, row: HeldEvent) -> None:
    await session.delete(row)


async def held_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(HeldEvent)) or 0)
