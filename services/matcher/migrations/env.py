"""Alembic environment: migrates the matcher's database, from the CLI or from the running service."""

from __future__ import annotations

import asyncio
import os

import verbund_matcher.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from alembic import context
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

config = context.config
target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    # Called by the service (verbund_matcher.store.database.migrate) with a connection it already holds.
    _run(connection)
elif context.is_offline_mode():
    context.configure(
        url=os.environ.get("VERBUND_DATABASE_URL", "sqlite+aiosqlite:///verbund.db"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async(os.environ.get("VERBUND_DATABASE_URL", "sqlite+aiosqlite:///verbund.db")))
