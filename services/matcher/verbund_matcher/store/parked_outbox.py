"""Hands a parked outbox row back to the relay when an operator's replay request names it as it was parked."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from .tables import OutboxRow, table_of


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back what it was given, without the zone; the relay writes UTC.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


async def release_parked(
    sessions: async_sessionmaker[AsyncSession], *, seq: int, event_id: str, parked_at: dt.datetime
) -> bool:
    """Let the relay try this parked event again, from a fresh count of attempts; whether it was released.

    Only a row still parked as the request says is released: the same event id, parked at that moment, not sent.
    A request read again, one for a row parked again since (a newer notice names it), or for another matcher
    database's row with the same seq, changes nothing.
    """
    t = table_of(OutboxRow)
    async with sessions() as session, session.begin():
        conn = await session.connection()
        row = (
            await conn.execute(
                select(t.c.event_id, t.c.parked_at).where(t.c.seq == seq, t.c.sent_at.is_(None)).with_for_update()
            )
        ).one_or_none()
        if row is None or row.event_id != event_id or row.parked_at is None:
            return False
        if _utc(row.parked_at) != _utc(parked_at):
            return False
        await conn.execute(update(t).where(t.c.seq == seq).values(parked_at=None, attempts=0))
    return True
