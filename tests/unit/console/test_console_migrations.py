"""The console's migrations build exactly its tables, and a rejection folded before revision 0002 still reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from verbund_console.app import build
from verbund_console.settings import ConsoleSettings
from verbund_console.store.database import alembic_config, migrate
from verbund_console.store.tables import metadata


async def test_the_migrations_match_the_tables_and_keep_rejections_stored_before_them(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"
    command.upgrade(alembic_config(url), "0001")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'console.db'}")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                'INSERT INTO console_rejected (network_id, event_id, at, topic, partition, "offset", reason) '
                "VALUES ('n1', 'e1', :at, 'verbund.inbound', 0, 3, 'the event has no id')"
            ),
            {"at": dt.datetime(2027, 1, 4, tzinfo=dt.UTC)},
        )
    await migrate(url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    console = build(ConsoleSettings(database_url=url, consume=False))
    rows, total = await console.read_model.rejected("n1", 0, 10)
    await console.engine.dispose()

    # Alembic's own version table is no model; anything else differing would be a missing migration.
    assert [d for d in differences if "alembic_version" not in str(d)] == []
    assert total == 1 and rows[0].errors == [] and rows[0].original_truncated is False
