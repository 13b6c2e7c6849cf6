"""Writes events into the outbox table, inside the caller's transaction."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import Envelope, encode_event

from ..store.tables import OutboxRow

SOURCE = "verbund-matcher"


def enqueue(session: AsyncSession, event: Envelope, role: str) -> OutboxRow:
    """Stage `event` for the relay; it is published only if the surrounding transaction commits."""
    row = OutboxRow(
        event_id=event.id,
        event_type=event.type,
        topic_role=role,
        key=event.subject,
        payload=encode_event(event).decode("utf-8"),
    )
    session.add(row)
    return row
