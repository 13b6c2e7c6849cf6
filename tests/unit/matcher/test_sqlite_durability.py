"""The matcher's SQLite settings: write-ahead log, commits on disk before offsets are committed, a busy timeout."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from verbund_matcher.store.database import create_engine


async def test_every_connection_uses_wal_with_full_sync_and_waits_for_writers(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'matcher.db'}")
    try:
        async with engine.connect() as connection:
            journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            synchronous = (await connection.execute(text("PRAGMA synchronous"))).scalar_one()
            busy = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
    finally:
        await engine.dispose()
    assert journal == "wal"
    assert synchronous == 2, "FULL: a batch is durable before Kafka learns its offsets are done"
    assert busy == 30000
