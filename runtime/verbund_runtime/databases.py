"""A service's own database: its URL with an async or a sync driver, and engines that wait for SQLite's writer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# The driver name a URL may give -> (async driver for the sessions, sync driver for Alembic and APScheduler).
_DRIVERS = {
    "sqlite": ("sqlite+aiosqlite", "sqlite"),
    "sqlite+aiosqlite": ("sqlite+aiosqlite", "sqlite"),
    "postgresql": ("postgresql+asyncpg", "postgresql+psycopg"),
    "postgresql+asyncpg": ("postgresql+asyncpg", "postgresql+psycopg"),
    "postgresql+psycopg": ("postgresql+psycopg_async", "postgresql+psycopg"),
    "postgresql+psycopg_async": ("postgresql+psycopg_async", "postgresql+psycopg"),
}

# Readers go on while a session writes; the mode stays with the file.
WRITE_AHEAD_LOG = ("journal_mode=WAL",)
# How long a connection waits for SQLite's one writer before it fails with "database is locked".
SQLITE_BUSY_SECONDS = 30


def _with_driver(url: str, which: int, setting: str, service: str) -> str:
    parsed = make_url(url)
    drivers = _DRIVERS.get(parsed.drivername)
    if drivers is None:
        raise ValueError(
            f"{setting} uses {parsed.drivername!r}; the {service} supports SQLite "
            "(sqlite+aiosqlite:///file.db) and PostgreSQL (postgresql+asyncpg://user:pw@host/db)"
        )
    return parsed.set(drivername=drivers[which]).render_as_string(hide_password=False)


def async_url(url: str, *, setting: str, service: str) -> str:
    """The URL with an async driver (the service's sessions); `setting` and `service` name it in an error."""
    return _with_driver(url, 0, setting, service)


def sync_url(url: str, *, setting: str, service: str) -> str:
    """The same database with a sync driver, for Alembic and APScheduler's job store."""
    return _with_driver(url, 1, setting, service)


def is_sqlite(url: str) -> bool:
    return make_url(url).drivername.startswith("sqlite")


def _on_connect(engine: sa.Engine, pragmas: Sequence[str]) -> None:
    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


def create_engine(
    url: str, *, sqlite_pragmas: Sequence[str] = WRITE_AHEAD_LOG, **postgresql_options: Any
) -> AsyncEngine:
    """An async engine on `url` (async driver); statement parameters stay out of error messages.

    On SQLite the service's writers (consumers, workers, pages) share one file: a connection waits for the
    writer instead of failing, and runs `sqlite_pragmas` when it opens. `postgresql_options` (pool sizes) go to
    a server's engine only.
    """
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, hide_parameters=True)
        if sqlite_pragmas:
            _on_connect(engine.sync_engine, sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, hide_parameters=True, **postgresql_options)


def create_sync_engine(url: str, *, sqlite_pragmas: Sequence[str] = WRITE_AHEAD_LOG) -> sa.Engine:
    """A sync engine on `url` (sync driver), waiting for SQLite's writer like `create_engine`."""
    if not is_sqlite(url):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
    if sqlite_pragmas:
        _on_connect(engine, sqlite_pragmas)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after the commit (a handler reads what it wrote)."""
    return async_sessionmaker(engine, expire_on_commit=False)
