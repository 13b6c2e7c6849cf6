"""The notifier's database: async engine and sessions, the sync URL APScheduler needs, and migrations."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from verbund_runtime import databases, migrations
from verbund_runtime.databases import session_factory

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Distinct from the matcher's, so the two services can share one PostgreSQL database and still migrate at once.
MIGRATION_LOCK_ID = 7466522

async_url = partial(databases.async_url, setting="VERBUND_NOTIFIER_DATABASE_URL", service="notifier")
sync_url = partial(databases.sync_url, setting="VERBUND_NOTIFIER_DATABASE_URL", service="notifier")

__all__ = ["alembic_config", "async_url", "create_engine", "job_store_url", "migrate", "session_factory", "sync_url"]


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
    return databases.create_sync_engine(job_store_url(url))


def create_engine(url: str) -> AsyncEngine:
    """The async engine; statement parameters stay out of error messages (they hold messages and addresses).

    On SQLite several writers (consumers, delivery worker) share the file; its write-ahead mode is set once,
    by `migrate`.
    """
    return databases.create_engine(async_url(url), sqlite_pragmas=())


def alembic_config(url: str) -> Config:
    return migrations.alembic_config(MIGRATIONS, sync_url(url))


def _write_ahead_log(url: str) -> None:
    # Write-ahead logging lets readers go on while a session writes (the mode stays with the file).
    engine = databases.create_sync_engine(sync_url(url))
    engine.connect().close()
    engine.dispose()


async def migrate(url: str) -> None:
    """Bring the schema to the newest revision (idempotent; safe for replicas starting at once)."""
    await migrations.migrate_url(async_url(url), alembic_config(url), MIGRATION_LOCK_ID)
    if databases.is_sqlite(url):
        await asyncio.to_thread(_write_ahead_log, url)
