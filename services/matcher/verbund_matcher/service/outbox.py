"""Stages events for the outbox table, in the caller's transaction."""

from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import Envelope, encode_event

from ..store.bulk import insert_at_commit
from ..store.tables import OutboxRow, table_of

SOURCE = "verbund-matcher"


def enqueue(session: AsyncSession, event: Envelope, role: str) -> None:
    """Stage `event` for the relay; it is published only if the surrounding transaction commits.

    The rows are inserted together when the transaction commits, in the order staged (the relay's order).
    """
    insert_at_commit(
        session,
        table_of(OutboxRow),
        [
            {
                "event_id": event.id,
                "event_type": event.type,
                "topic_role": role,
                "key": event.subject,
                "payload": encode_event(event).decode("utf-8"),
                "created_at": dt.datetime.now(dt.UTC),
                "sent_at": None,
            }
        ],
    )
