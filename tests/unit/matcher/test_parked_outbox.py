"""Operators list the relay's parked outbox events and hand them back through the matcher's own functions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import text
from verbund_matcher.store.database import create_engine, migrate
from verbund_matcher.store.parked_outbox import parked_outbox_events, release_parked


async def test_parked_events_are_listed_and_released_sent_ones_are_not(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    engine = create_engine(url)
    await migrate(engine)
    parked_at = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)
    async with engine.begin() as conn:
        for seq, sent in ((1, None), (2, parked_at), (3, None)):
            await conn.execute(
                text(
                    "INSERT INTO outbox (seq, event_id, event_type, topic_role, key, payload, created_at, sent_at, "
                    "attempts, last_error, parked_at) VALUES (:seq, :id, 'AssignmentMade', 'assignments', 'N-1', "
                    "'{}', :at, :sent, 5, 'too large', :parked)"
                ),
                {"seq": seq, "id": f"e-{seq}", "at": parked_at, "sent": sent, "parked": parked_at if seq < 3 else None},
            )
    listed = await parked_outbox_events(url)
    assert [(e.seq, e.event_id, e.attempts, e.last_error) for e in listed] == [(1, "e-1", 5, "too large")]

    await release_parked(url, [1, 2])
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT seq, attempts, parked_at FROM outbox ORDER BY seq"))).all()
    await engine.dispose()
    assert [(r.seq, r.attempts, r.parked_at is None) for r in rows] == [(1, 0, True), (2, 5, False), (3, 5, True)]
    assert await parked_outbox_events(url) == []
