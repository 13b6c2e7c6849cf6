"""The notifier's database: async engine and sessions, the sync URL APScheduler needs, and migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from verbund_runtime.migrations import migrate as upgrade

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

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


def job_store_url(url: str) -> str:
    """Where APScheduler keeps the jobs (sync driver): the same database, except on SQLite.

    SQLite locks the whole file for a write. APScheduler touches its store from the event loop as well as
    from worker threads, under one lock of its own; sharing the file with the async sessions would let a
    job write in a thread wait for a session's transaction whose commit needs the event loop, while the
    loop waits for APScheduler's lock held by that thread, until SQLite's busy timeout breaks the tie with
    "database is locked". A sibling file (`notifier.db` → `notifier-jobs.db`) has only the job store as a
    writer.
    """
    parsed = make_url(sync_url(url))
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        parsed = parsed.set(database=str(path.with_name(f"{path.stem}-jobs{path.suffix}")))
    return parsed.render_as_string(hide_password=False)


def create_job_store_engine(url: str) -> sa.Engine:
    """A sync engine for the job store (see `job_store_url`); SQLite in write-ahead mode, waiting for writers."""
    url = job_store_url(url)
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _wal(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return engine


def create_engine(url: str) -> AsyncEngine:
    """The async engine; statement parameters stay out of error messages (they hold messages and addresses)."""
    url = async_url(url)
    if url.startswith("sqlite"):
        # Several writers (consumers, delivery worker) share the file: wait instead of failing.
        return create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
    return create_async_engine(url, pool_pre_ping=True, hide_parameters=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would read '%' in a password as a reference.
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


# Distinct from the matcher's, so the two services can share one PostgreSQL database and still migrate at once.
MIGRATION_LOCK_ID = 7466522


def _write_ahead_log(url: str) -> None:
    # Write-ahead logging lets readers go on while a session writes (the mode stays with the file).
    engine = sa.create_engine(sync_url(url))
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    engine.dispose()


async def migrate(url: str) -> None:
    """Bring the schema to the newest revision (idempotent; safe for replicas starting at once)."""
    engine = create_async_engine(async_url(url), poolclass=sa.pool.NullPool)
    try:
        await upgrade(engine, alembic_config(url), MIGRATION_LOCK_ID)
    finally:
        await engine.dispose()
    if make_url(url).drivername.startswith("sqlite"):
        await asyncio.to_thread(_write_ahead_log, url)
