"""The notifier's database: async engine and sessions, the sync URL APScheduler needs, and migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_SYNC_DRIVERS = {
    "sqlite+aiosqlite": "sqlite",
    "sqlite": "sqlite",
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
}
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+psycopg_async",
    "postgresql+psycopg_async": "postgresql+psycopg_async",
}


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    parsed = make_url(url)
    driver = drivers.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"VERBUND_NOTIFIER_DATABASE_URL uses {parsed.drivername!r}; the notifier supports SQLite "
            "(sqlite+aiosqlite:///file.db) and PostgreSQL (postgresql+asyncpg://user:pw@host/db)"
        )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def async_url(url: str) -> str:
    """The URL with an async driver (the services' sessions)."""
    return _with_driver(url, _ASYNC_DRIVERS)


def sync_url(url: str) -> str:
    """The same database with a sync driver: APScheduler's job store and Alembic need one."""
    return _with_driver(url, _SYNC_DRIVERS)


def create_sync_engine(url: str) -> sa.Engine:
    """A sync engine for the job store; on SQLite it waits for other writers as long as the async one does."""
    url = sync_url(url)
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": 30})
    return sa.create_engine(url, pool_pre_ping=True)


def create_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    if url.startswith("sqlite"):
        # Several writers (consumers, delivery worker, job store) share the file: wait instead of failing.
        return create_async_engine(url, connect_args={"timeout": 30})
    return create_async_engine(url, pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would read '%' in a password as a reference.
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


def migrate_sync(url: str) -> None:
    command.upgrade(alembic_config(url), "head")
    if make_url(url).drivername.startswith("sqlite"):
        # Write-ahead logging lets the job store read while a session writes (the mode stays with the file).
        engine = sa.create_engine(sync_url(url))
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        engine.dispose()


async def migrate(url: str) -> None:
    """Bring the schema to the newest revision (idempotent; safe for every replica to run)."""
    await asyncio.to_thread(migrate_sync, url)
