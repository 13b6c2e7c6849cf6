"""The inbox: ids of events applied, per network, and the network lock under which events are applied."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from verbund_schemas import Envelope

from .tables import ProcessedEvent


async def lock_network(session: AsyncSession, network: str) -> None:
    """Take the network's lock until commit, so holding an event and releasing held ones never interleave.

    Without it, on PostgreSQL an assignment could find its learner missing while the learner's registration
    is being committed, look for held events before the assignment's is visible, and stay held for good.
    SQLite lets one writer in at a time, and a transaction whose reads went stale fails and is retried.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:network))"), {"network": network})


async def applied_before(session: AsyncSession, event: Envelope) -> bool:
    # An id is unique within its network only: the same id in another network is another event.
    return await session.get(ProcessedEvent, (event.network_id, event.id)) is not None


def remember(session: AsyncSession, event: Envelope, now: dt.datetime) -> None:
    """Record the event as applied, in the transaction of its effects."""
    session.add(ProcessedEvent(event_id=event.id, event_type=event.type, network_id=event.network_id, processed_at=now))


async def network_configured(session: AsyncSession, network: str) -> bool:
    """Whether a NetworkConfigured of the network was applied: its coordinators are known."""
    configured = await session.scalar(
        select(col(ProcessedEvent.event_id))
        .where(col(ProcessedEvent.network_id) == network, col(ProcessedEvent.event_type) == "NetworkConfigured")
        .limit(1)
    )
    return configured is not None
