"""The Alembic migrations create exactly the tables the models declare, and running them twice is harmless."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlmodel import SQLModel
from verbund_matcher.store.database import create_engine, migrate


def _differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), SQLModel.metadata))


async def test_migrations_match_the_models_and_can_run_again(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    await migrate(engine)
    await migrate(engine)
    async with engine.connect() as conn:
        differences = await conn.run_sync(_differences)
        leases = (await conn.execute(text("SELECT count(*) FROM relay_lease"))).scalar_one()
    await engine.dispose()
    assert differences == [], "models changed without a migration: alembic revision --autogenerate"
    assert leases == 1
