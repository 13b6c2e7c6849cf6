"""The daily prune forgets old inbox ids and published outbox rows, and nothing a replay or the relay needs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_matcher.service.retention import prune
from verbund_matcher.store.tables import InboxRow, OutboxRow, table_of

Sessions = async_sessionmaker[AsyncSession]
NOW = dt.datetime(2031, 6, 1, 3, 0, tzinfo=dt.UTC)


def _days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


async def _fill(sessions: Sessions) -> None:
    inbox = [
        {
            "message_id": name,
            "network_id": "n",
            "topic": "t",
            "partition": 0,
            "offset": i,
            "outcome": "applied",
            "handled_at": _days_ago(age),
        }
        for i, (name, age) in enumerate([("ancient", 40), ("month", 34), ("fresh", 1)])
    ]
    outbox = [
        {
            "event_id": name,
            "event_type": "AssignmentMade",
            "topic_role": "assignments",
            "key": "n",
            "payload": "{}",
            "created_at": _days_ago(age),
            "sent_at": None if unsent else _days_ago(age),
        }
        for name, age, unsent in [
            ("old-sent", 30, False),
            ("old-unsent", 30, True),
            ("recent-sent", 2, False),
            ("newest-old-sent", 20, False),  # the highest seq: stays whatever its age
        ]
    ]
    async with sessions() as session, session.begin():
        conn = await session.connection()
        await conn.execute(insert(table_of(InboxRow)), inbox)
        await conn.execute(insert(table_of(OutboxRow)), outbox)


async def test_old_inbox_ids_and_old_published_outbox_rows_go_and_the_rest_stays(sessions: Sessions) -> None:
    await _fill(sessions)
    pruned = await prune(sessions, now=NOW, inbox_days=35, outbox_days=7)
    async with sessions() as session:
        conn = await session.connection()
        inbox = set((await conn.execute(select(table_of(InboxRow).c.message_id))).scalars())
        outbox = set((await conn.execute(select(table_of(OutboxRow).c.event_id))).scalars())
    assert inbox == {"month", "fresh"}
    assert outbox == {"old-unsent", "recent-sent", "newest-old-sent"}
    assert (pruned.inbox, pruned.outbox) == (1, 1)


async def test_pruning_twice_deletes_nothing_more(sessions: Sessions) -> None:
    await _fill(sessions)
    await prune(sessions, now=NOW, inbox_days=35, outbox_days=7)
    again = await prune(sessions, now=NOW, inbox_days=35, outbox_days=7)
    assert (again.inbox, again.outbox) == (0, 0)
