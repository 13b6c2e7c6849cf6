"""The console's database: async engine and sessions, and migrations under the console's own lock."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine
from verbund_runtime import databases, migrations
from verbund_runtime.databases import session_factory

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

# Distinct from the matcher's and the notifier's, so the services can share one PostgreSQL database and
# still migrate at the same time.
MIGRATION_LOCK_ID = 7466523

async_url = partial(databases.async_url, setting="VERBUND_CONSOLE_DATABASE_URL", service="console")
sync_url = partial(databases.sync_url, setting="VERBUND_CONSOLE_DATABASE_URL", service="console")

__all__ = ["alembic_config", "async_url", "create_engine", "migrate", "session_factory", "sync_url"]


def create_engine(url: str) -> AsyncEngine:
    # SQLite: the consumers and the web pages share the file; readers (the pages) go on while a consumer writes.
    return databases.create_engine(async_url(url))


def alembic_config(url: str) -> Config:
    return migrations.alembic_config(MIGRATIONS, sync_url(url))


async def migrate(url: str) -> None:
    """Bring the schema to the newest revision (idempotent; safe for replicas starting at once)."""
    await migrations.migrate_url(async_url(url), alembic_config(url), MIGRATION_LOCK_ID)


def migrate_blocking(url: str) -> None:
    """`migrate` for the command line, outside any event loop."""
    asyncio.run(migrate(url))
