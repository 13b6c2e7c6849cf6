"""The console's database: async engine and sessions, and migrations under the console's own lock."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from verbund_runtime.migrations import migrate as upgrade

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

# Distinct from the matcher's and the notifier's, so the services can share one PostgreSQL database and
# still migrate at the same time.
MIGRATION_LOCK_ID = 7466523

_DRIVERS = {
    # name given -> (async driver, sync driver for Alembic)
    "sqlite": ("sqlite+aiosqlite", "sqlite"),
    "sqlite+aiosqlite": ("sqlite+aiosqlite", "sqlite"),
    "postgresql": ("postgresql+asyncpg", "postgresql+psycopg"),
    "postgresql+asyncpg": ("postgresql+asyncpg", "postgresql+psycopg"),
    "postgresql+psycopg": ("postgresql+psycopg_async", "postgresql+psycopg"),
    "postgresql+psycopg_async": ("postgresql+psycopg_async", "postgresql+psycopg"),
}


def _with_driver(url: str, which: int) -> str:
    parsed = make_url(url)
    drivers = _DRIVERS.get(parsed.drivername)
    if drivers is None:
        raise ValueError(
            f"VERBUND_CONSOLE_DATABASE_URL uses {parsed.drivername!r}; the console supports SQLite "
            "(sqlite+aiosqlite:///file.db) and PostgreSQL (postgresql+asyncpg://user:pw@host/db)"
        )
    return parsed.set(drivername=drivers[which]).render_as_string(hide_password=False)


def async_url(url: str) -> str:
    return _with_driver(url, 0)


def sync_url(url: str) -> str:
    return _with_driver(url, 1)


def create_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    if url.startswith("sqlite"):
        # The consumers and the web pages share the file: wait for a writer instead of failing.
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _wal(connection: Any, _record: Any) -> None:
            # Readers (the pages) go on while a consumer writes.
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, hide_parameters=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would read '%' in a password as a reference.
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


async def migrate(url: str) -> None:
    """Bring the schema to the newest revision (idempotent; safe for replicas starting at once)."""
    engine = create_async_engine(async_url(url), poolclass=sa.pool.NullPool)
    try:
        await upgrade(engine, alembic_config(url), MIGRATION_LOCK_ID)
    finally:
        await engine.dispose()


def migrate_blocking(url: str) -> None:
    """`migrate` for the command line, outside any event loop."""
    asyncio.run(migrate(url))
