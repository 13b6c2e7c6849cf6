"""Creating and dropping throwaway PostgreSQL databases for tests (CREATE DATABASE needs no transaction)."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url


def url_with_database(url: str, database: str) -> str:
    """The same server and credentials, another database."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _asyncpg_dsn(url: str) -> str:
    # asyncpg speaks plain postgresql:// URLs; SQLAlchemy's "+asyncpg" marker is not part of them.
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _quoted(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"database name {name!r}: use letters, digits and underscores only")
    return f'"{name}"'


async def create_database(admin_url: str, name: str) -> None:
    """CREATE DATABASE name, connected to the server's maintenance database."""
    connection = await asyncpg.connect(_asyncpg_dsn(admin_url), timeout=30)
    try:
        await connection.execute(f"CREATE DATABASE {_quoted(name)}")
    finally:
        await connection.close()


async def drop_database(admin_url: str, name: str) -> None:
    """DROP DATABASE name, also when a test left connections open (FORCE, PostgreSQL 13+)."""
    connection = await asyncpg.connect(_asyncpg_dsn(admin_url), timeout=30)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")
    finally:
        await connection.close()
