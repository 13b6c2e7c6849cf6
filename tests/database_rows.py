"""Every row of every table of a service's database as text, for proving what a database holds after erasure."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine


async def rows_of(database_url: str) -> dict[str, list[str]]:
    """Each table's rows (jobs and bookkeeping tables included), each row as the text of its values."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
            return {
                name: [repr(tuple(r)) for r in (await conn.execute(text(f'SELECT * FROM "{name}"'))).all()]
                for name in names
            }
    finally:
        await engine.dispose()
