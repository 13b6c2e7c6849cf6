"""Forgets what no longer needs remembering: old inbox ids and published outbox rows (a daily job)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from ..store.tables import InboxRow, OutboxRow, table_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pruned:
    inbox: int
    outbox: int


async def prune(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: dt.datetime,
    inbox_days: float,
    outbox_days: float,
) -> Pruned:
    """Delete inbox rows handled more than `inbox_days` ago and outbox rows sent more than `outbox_days` ago.

    The inbox must remember an event as long as the inbound topic can deliver it again (its retention, plus
    a margin), or a replay would apply it twice. Outbox rows are on Kafka once sent; unsent rows are never
    deleted. The newest outbox row always stays: on SQLite its seq is the rowid, and deleting the highest one
    would let SQLite hand that number out again, below what a running relay has already published.
    """
    inbox, outbox = table_of(InboxRow), table_of(OutboxRow)
    async with sessions() as session, session.begin():
        conn = await session.connection()
        gone_inbox = await conn.execute(delete(inbox).where(inbox.c.handled_at < now - dt.timedelta(days=inbox_days)))
        newest = (await conn.execute(select(func.max(outbox.c.seq)))).scalar_one()
        gone_outbox = await conn.execute(
            delete(outbox).where(
                outbox.c.sent_at.is_not(None),
                outbox.c.sent_at < now - dt.timedelta(days=outbox_days),
                outbox.c.seq < (newest if newest is not None else 0),
            )
        )
    pruned = Pruned(int(gone_inbox.rowcount or 0), int(gone_outbox.rowcount or 0))
    log.info("pruned old rows", extra={"inbox": pruned.inbox, "outbox": pruned.outbox})
    return pruned
