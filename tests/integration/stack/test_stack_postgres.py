"""The PostgreSQL part of the local stack: the session server and one fresh database per test."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.postgres


async def test_postgres_url_is_an_async_url_of_a_database_that_stores_and_returns_rows(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+asyncpg://")
    engine = create_async_engine(postgres_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE IF NOT EXISTS stack_probe (id int PRIMARY KEY, note text)"))
            await connection.execute(text("DELETE FROM stack_probe"))
            await connection.execute(text("INSERT INTO stack_probe VALUES (1, 'kept')"))
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, note FROM stack_probe"))).all()
            await connection.execute(text("DROP TABLE stack_probe"))
            await connection.commit()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [(1, "kept")]


async def test_fresh_postgres_url_is_an_empty_database_of_its_own(fresh_postgres_url: str, postgres_url: str) -> None:
    assert make_url(fresh_postgres_url).database != make_url(postgres_url).database
    engine = create_async_engine(fresh_postgres_url)
    try:
        async with engine.begin() as connection:
            tables = (
                await connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))
            ).scalar_one()
            await connection.execute(text("CREATE TABLE only_here (id int)"))
            database = (await connection.execute(text("SELECT current_database()"))).scalar_one()
    finally:
        await engine.dispose()
    assert tables == 0
    assert database == make_url(fresh_postgres_url).database


def test_sqlite_url_points_into_the_tests_temporary_folder(sqlite_url: str, tmp_path: object) -> None:
    assert sqlite_url == f"sqlite+aiosqlite:///{tmp_path}/x.db"
