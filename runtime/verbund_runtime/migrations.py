"""`alembic upgrade head` from a running service, one replica at a time."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine


def upgrade_locked(connection: Connection, config: Config, lock_id: int) -> None:
    """Upgrade on this connection, inside its transaction; on PostgreSQL under an advisory lock.

    Replicas starting together: one migrates, the others wait for the lock and then find nothing to do.
    SQLite has one writer at a time anyway. The migration environment must use
    `config.attributes["connection"]` when it is set.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine, config: Config, lock_id: int) -> None:
    """Bring a service's schema to its newest revision; idempotent, and safe for replicas starting at once."""
    async with engine.begin() as connection:
        await connection.run_sync(upgrade_locked, config, lock_id)
