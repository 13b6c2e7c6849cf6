"""A replay request hands a parked outbox row back to the relay only while the row is parked as the notice said."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import text
from verbund_matcher.store.database import create_engine, migrate, session_factory
from verbund_matcher.store.parked_outbox import release_parked

PARKED_AT = dt.datetime(2026, 11, 29, 9, 0, 0, 123456, tzinfo=dt.UTC)


async def test_a_parked_row_is_released_with_fresh_attempts_and_sent_or_other_rows_are_not(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    await migrate(engine)
    async with engine.begin() as conn:
        for seq, sent in ((1, None), (2, PARKED_AT), (3, None)):
            await conn.execute(
                text(
                    "INSERT INTO outbox (seq, event_id, event_type, topic_role, key, payload, created_at, sent_at, "
                    "attempts, last_error, parked_at) VALUES (:seq, :id, 'AssignmentMade', 'assignments', 'N-1', "
                    "'{}', :at, :sent, 5, 'too large', :parked)"
                ),
                {"seq": seq, "id": f"e-{seq}", "at": PARKED_AT, "sent": sent, "parked": PARKED_AT if seq < 3 else None},
            )
    sessions = session_factory(engine)

    # Another database's row under the same seq, and a notice older than the row's parking, change nothing.
    assert not await release_parked(sessions, seq=1, event_id="e-other", parked_at=PARKED_AT)
    assert not await release_parked(sessions, seq=1, event_id="e-1", parked_at=PARKED_AT - dt.timedelta(hours=1))
    released = [await release_parked(sessions, seq=s, event_id=f"e-{s}", parked_at=PARKED_AT) for s in (1, 2, 3)]
    again = await release_parked(sessions, seq=1, event_id="e-1", parked_at=PARKED_AT)

    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT seq, attempts, parked_at FROM outbox ORDER BY seq"))).all()
    await engine.dispose()
    assert released == [True, False, False] and not again, "a request read twice releases once"
    assert [(r.seq, r.attempts, r.parked_at is None) for r in rows] == [(1, 0, True), (2, 5, False), (3, 5, True)]
