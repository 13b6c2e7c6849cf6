"""The relay's parked outbox rows, for operators: list them and hand them back to the relay.

The `verbund parked` command works through these functions, so it knows the matcher's operations, not its tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from .database import create_engine
from .tables import OutboxRow, table_of


@dataclass(frozen=True)
class ParkedOutboxEvent:
    """An outbox event Kafka refused until the relay parked it (docs/decisions/0003-parking-failed-records.md)."""

    seq: int
    event_type: str
    event_id: str
    topic_role: str
    key: str | None
    attempts: int
    last_error: str
    parked_at: dt.datetime | str


async def parked_outbox_events(database_url: str) -> list[ParkedOutboxEvent]:
    """Every outbox event parked and not sent since, oldest first."""
    t = table_of(OutboxRow)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.c.seq, t.c.event_type, t.c.event_id, t.c.topic_role, t.c.key, t.c.attempts)
                    .add_columns(t.c.last_error, t.c.parked_at)
                    .where(t.c.parked_at.is_not(None), t.c.sent_at.is_(None))
                    .order_by(t.c.seq)
                )
            ).all()
    finally:
        await engine.dispose()
    return [
        ParkedOutboxEvent(
            seq=int(r.seq),
            event_type=r.event_type,
            event_id=r.event_id,
            topic_role=r.topic_role,
            key=r.key,
            attempts=int(r.attempts),
            last_error=r.last_error or "",
            parked_at=r.parked_at,
        )
        for r in rows
    ]


async def release_parked(database_url: str, seqs: Sequence[int]) -> None:
    """Let the relay try these parked events again, from a fresh count of attempts (sent ones stay sent)."""
    t = table_of(OutboxRow)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            for seq in seqs:
                await conn.execute(
                    update(t).where(t.c.seq == seq, t.c.sent_at.is_(None)).values(parked_at=None, attempts=0)
                )
    finally:
        await engine.dispose()
